// The storefront page: catalog, product pages on client routes, sign-in with the user pool's public
// client, and orders with the customer's ID token. Plain ES module, no build step, no inline script.

const $ = (selector) => document.querySelector(selector);
const main = $("#main");
const statusLine = $("#status");
let config;

function say(message, kind = "info") {
  statusLine.textContent = message;
  statusLine.dataset.kind = kind;
}

function money(cents) {
  return `$${(cents / 100).toFixed(2)}`;
}

function token() {
  return sessionStorage.getItem("idToken");
}

function showAccount() {
  const email = sessionStorage.getItem("email");
  $("#who").textContent = email ? `Signed in as ${email}` : "";
  $("#sign-out").hidden = !email;
  $("#sign-in").hidden = Boolean(email);
}

async function signIn(email, password) {
  const response = await fetch(config.cognitoEndpoint, {
    method: "POST",
    headers: {
      "Content-Type": "application/x-amz-json-1.1",
      "X-Amz-Target": "AWSCognitoIdentityProviderService.InitiateAuth",
    },
    body: JSON.stringify({
      AuthFlow: "USER_PASSWORD_AUTH",
      ClientId: config.userPoolClientId,
      AuthParameters: { USERNAME: email, PASSWORD: password },
    }),
  });
  const answer = await response.json();
  if (!response.ok || !answer.AuthenticationResult) {
    say(`Sign-in failed: ${answer.message || "check your email and password"}`, "error");
    return;
  }
  sessionStorage.setItem("idToken", answer.AuthenticationResult.IdToken);
  sessionStorage.setItem("email", email);
  showAccount();
  say("Signed in.", "ok");
}

function signOut(message) {
  sessionStorage.removeItem("idToken");
  sessionStorage.removeItem("email");
  showAccount();
  say(message, message.startsWith("Signed out") ? "info" : "error");
  $("#email").focus();
}

async function placeOrder(product, quantity) {
  if (!token()) {
    signOut("Sign in to order.");
    return;
  }
  say("Placing your order…", "busy");
  const order = {
    orderId: crypto.randomUUID(),
    items: [{ sku: product.id, quantity, unitPrice: product.priceCents / 100 }],
  };
  const response = await fetch("/api/orders", {
    method: "POST",
    headers: { "Content-Type": "application/json", Authorization: token() },
    body: JSON.stringify(order),
  });
  const answer = await response.json().catch(() => ({}));
  const retryAfter = response.headers.get("Retry-After");
  switch (response.status) {
    case 202:
      say(`Order placed (request ${answer.requestId}). Thank you!`, "ok");
      break;
    case 400:
      say(`The order was refused: ${answer.message || "check the quantity"}`, "error");
      break;
    case 401:
      signOut("Your session has expired: please sign in again.");
      break;
    case 413:
      say("The order is too large: remove some items and try again.", "error");
      break;
    case 429:
    case 503:
      say(`We are busy: please try again in ${retryAfter || "a few"} seconds.`, "error");
      holdOrders(Number(retryAfter) || 5);
      break;
    default:
      say(`The order could not be placed (${response.status}); please try again later.`, "error");
  }
}

function holdOrders(seconds) {
  // Honour Retry-After: the order button comes back when the service said it may be asked again.
  const button = document.querySelector("#order-form button");
  if (!button) {
    return;
  }
  button.disabled = true;
  setTimeout(() => {
    button.disabled = false;
  }, seconds * 1000);
}

async function showCatalog() {
  const response = await fetch("/api/catalog/products");
  const { products } = await response.json();
  main.replaceChildren();
  const title = document.createElement("h1");
  title.textContent = "Catalog";
  const list = document.createElement("ul");
  list.className = "products";
  for (const product of products) {
    const item = document.createElement("li");
    const link = document.createElement("a");
    link.href = `/products/${encodeURIComponent(product.id)}`;
    link.dataset.route = "";
    link.textContent = product.name;
    item.append(link, ` ${money(product.priceCents)}`);
    list.append(item);
  }
  main.append(title, list);
}

async function showProduct(id) {
  const response = await fetch(`/api/catalog/products/${encodeURIComponent(id)}`);
  main.replaceChildren();
  if (!response.ok) {
    const missing = document.createElement("h1");
    missing.textContent = "No such product";
    main.append(missing);
    return;
  }
  const product = await response.json();
  const title = document.createElement("h1");
  title.textContent = product.name;
  const price = document.createElement("p");
  price.textContent = money(product.priceCents);
  const form = document.createElement("form");
  form.id = "order-form";
  const label = document.createElement("label");
  label.htmlFor = "quantity";
  label.textContent = "Quantity";
  const quantity = document.createElement("input");
  quantity.id = "quantity";
  quantity.type = "number";
  quantity.min = "0";
  quantity.value = "1";
  const submit = document.createElement("button");
  submit.type = "submit";
  submit.textContent = "Place order";
  form.append(label, quantity, submit);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    placeOrder(product, Number(quantity.value));
  });
  main.append(title, price);
  if (!product.inStock) {
    const note = document.createElement("p");
    note.className = "out-of-stock";
    note.textContent = "Out of stock: orders wait until it is back.";
    main.append(note);
  }
  main.append(form);
}

async function route() {
  const match = location.pathname.match(/^\/products\/([^/]+)$/);
  if (match) {
    await showProduct(decodeURIComponent(match[1]));
  } else {
    await showCatalog();
  }
  main.dataset.ready = "true";
}

document.addEventListener("click", (event) => {
  const link = event.target.closest("a[data-route]");
  if (!link) {
    return;
  }
  event.preventDefault();
  history.pushState({}, "", link.getAttribute("href"));
  main.dataset.ready = "false";
  route().then(() => main.focus());
});
window.addEventListener("popstate", route);

$("#sign-in-form").addEventListener("submit", (event) => {
  event.preventDefault();
  signIn($("#email").value, $("#password").value);
});
$("#sign-out").addEventListener("click", () => signOut("Signed out."));

config = await (await fetch("/config.json")).json();
showAccount();
await route();
