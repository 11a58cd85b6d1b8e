// The storefront page: catalog, product pages on client routes, sign-in with the user pool's public
// client (answering every challenge Cognito sends), a forgotten password, TOTP enrolment, sign-out that
// revokes the session, and orders with the customer's ID token. Plain ES module, no build step, no inline
// script.

const $ = (selector) => document.querySelector(selector);
const main = $("#main");
const statusLine = $("#status");
const ISSUER = "Storefront";
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

function element(tag, properties = {}, ...children) {
  const node = Object.assign(document.createElement(tag), properties);
  node.append(...children);
  return node;
}

// ------------------------------------------------------------------------------------ Cognito

class CognitoError extends Error {
  constructor(code, message) {
    super(message);
    this.code = code;
  }
}

async function cognito(target, body) {
  const response = await fetch(config.cognitoEndpoint, {
    method: "POST",
    headers: {
      "Content-Type": "application/x-amz-json-1.1",
      "X-Amz-Target": `AWSCognitoIdentityProviderService.${target}`,
    },
    body: JSON.stringify(body),
  });
  const answer = await response.json().catch(() => ({}));
  if (!response.ok) {
    const code = String(answer.__type || "").split("#").pop();
    throw new CognitoError(code, answer.message || `${target} failed (${response.status})`);
  }
  return answer;
}

function explain(error) {
  switch (error.code) {
    case "CodeMismatchException":
    case "EnableSoftwareTokenMFAException":
      return "That code is not right: enter the code your authenticator app shows now.";
    case "ExpiredCodeException":
      return "That code was used already: wait for the next one.";
    case "InvalidPasswordException":
      return `Choose another password: ${error.message}`;
    case "PasswordResetRequiredException":
      return "Your password must be reset: choose \u201cForgot your password?\u201d.";
    case "NotAuthorizedException":
      if (error.message.includes("session")) {
        return "The sign-in took too long: please start again.";
      }
      // Only a wrong email or password is that; a sign-in Cognito blocks (credentials known to be leaked,
      // a risky sign-in without a second factor, too many attempts) says why in its own words.
      return /incorrect username or password/i.test(error.message)
        ? "Check your email and password."
        : `${error.message.replace(/\.?$/, ".")} If this persists, please contact us.`;
    default:
      return error.message;
  }
}

// ------------------------------------------------------------------------------------ signing in

async function signIn(email, password) {
  say("Signing in…", "busy");
  try {
    const answer = await cognito("InitiateAuth", {
      AuthFlow: "USER_PASSWORD_AUTH",
      ClientId: config.userPoolClientId,
      AuthParameters: { USERNAME: email, PASSWORD: password },
    });
    await proceed(answer, email);
  } catch (error) {
    say(`Sign-in failed: ${explain(error)}`, "error");
  } finally {
    $("#password").value = ""; // sent once, never kept in the page
  }
}

// Cognito answers a sign-in step with tokens or with the next challenge.
async function proceed(answer, email) {
  if (answer.AuthenticationResult) {
    await signedIn(answer.AuthenticationResult, email);
    return;
  }
  const challenge = {
    name: answer.ChallengeName,
    session: answer.Session,
    parameters: answer.ChallengeParameters || {},
    email,
  };
  const step = CHALLENGES[challenge.name];
  if (!step) {
    endStep();
    say(`Sign-in needs a step this page cannot take (${challenge.name}); please contact us.`, "error");
    return;
  }
  await step(challenge);
}

function respond(challenge, responses) {
  const username = challenge.parameters.USER_ID_FOR_SRP || challenge.parameters.USERNAME || challenge.email;
  return cognito("RespondToAuthChallenge", {
    ClientId: config.userPoolClientId,
    ChallengeName: challenge.name,
    Session: challenge.session,
    ChallengeResponses: { USERNAME: username, ...responses },
  });
}

// One step of a sign-in (or of enrolment): a titled form whose submit runs `act` with the form's values.
// A refused value keeps the form up, with the reason; anything else ends the step.
function showStep(title, intro, fields, submitLabel, act) {
  $("#sign-in").hidden = true;
  $("#step").hidden = false;
  $("#step-title").textContent = title;
  const form = element("form", { id: "step-form" });
  for (const field of fields) {
    form.append(element("label", { htmlFor: field.id, textContent: field.label }), field.control);
  }
  const submit = element("button", { type: "submit", textContent: submitLabel });
  const cancel = element("button", { type: "button", textContent: "Cancel", className: "secondary" });
  cancel.addEventListener("click", () => {
    endStep();
    say("Cancelled.");
  });
  form.append(submit, cancel);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    submit.disabled = true;
    say("One moment…", "busy");
    try {
      await act(Object.fromEntries(fields.map((f) => [f.id, f.control.value])));
    } catch (error) {
      say(explain(error), "error");
      if (RETRYABLE.includes(error.code)) {
        // Every typed value goes (both passwords when they differ, not the first only); a choice stays.
        const typed = [...form.querySelectorAll("input")];
        for (const input of typed) {
          input.value = "";
        }
        (typed[0] || form.querySelector("select")).focus();
      } else {
        endStep();
      }
    } finally {
      submit.disabled = false;
    }
  });
  $("#step-body").replaceChildren(...intro, form);
  showAccount();
  form.querySelector("input, select").focus();
}

// Refusals the customer can put right in the same step (Cognito keeps the session for another try).
const RETRYABLE = [
  "CodeMismatchException",
  "EnableSoftwareTokenMFAException",
  "ExpiredCodeException",
  "InvalidPasswordException",
  "ResetCodeRefused",
];

function endStep() {
  $("#step").hidden = true;
  $("#step-body").replaceChildren();
  showAccount();
}

function codeField(label) {
  const control = element("input", {
    id: "code",
    name: "code",
    inputMode: "numeric",
    autocomplete: "one-time-code",
    pattern: "[0-9]{6}",
    required: true,
  });
  return { id: "code", label, control };
}

function passwordField(id, label) {
  const control = element("input", { id, name: id, type: "password", autocomplete: "new-password", required: true });
  return { id, label, control };
}

const CODE_RESPONSE = {
  SOFTWARE_TOKEN_MFA: ["SOFTWARE_TOKEN_MFA_CODE", "Code from your authenticator app"],
  SMS_MFA: ["SMS_MFA_CODE", "Code from the text message we sent"],
  EMAIL_OTP: ["EMAIL_OTP_CODE", "Code from the email we sent"],
};

const FACTOR_NAMES = {
  SOFTWARE_TOKEN_MFA: "Authenticator app",
  SMS_MFA: "Text message",
  EMAIL_OTP: "Email",
};

// A list parameter comes as a JSON string (or, from some emulators, a list).
function factors(value) {
  return String(value).match(/[A-Z_]+/g) || [];
}

const CHALLENGES = {
  SOFTWARE_TOKEN_MFA: codeStep,
  SMS_MFA: codeStep,
  EMAIL_OTP: codeStep,
  SELECT_MFA_TYPE: async (challenge) => {
    const choices = factors(challenge.parameters.MFAS_CAN_CHOOSE);
    const control = element("select", { id: "factor", name: "factor", required: true });
    for (const factor of choices) {
      control.append(element("option", { value: factor, textContent: FACTOR_NAMES[factor] || factor }));
    }
    showStep(
      "How do you want to confirm it is you?",
      [],
      [{ id: "factor", label: "Second step", control }],
      "Continue",
      async ({ factor }) => proceed(await respond(challenge, { ANSWER: factor }), challenge.email),
    );
  },
  NEW_PASSWORD_REQUIRED: async (challenge) => {
    showStep(
      "Choose your password",
      [
        element("p", {
          textContent:
            "You signed in with the temporary password of your invitation. Choose your own: 12 or more " +
            "characters, with upper and lower case letters, a digit and a symbol.",
        }),
      ],
      [passwordField("new-password", "New password"), passwordField("repeat-password", "New password, again")],
      "Save password",
      async (values) => {
        if (values["new-password"] !== values["repeat-password"]) {
          throw new CognitoError("InvalidPasswordException", "the two passwords differ");
        }
        return proceed(await respond(challenge, { NEW_PASSWORD: values["new-password"] }), challenge.email);
      },
    );
  },
  MFA_SETUP: async (challenge) => {
    if (!factors(challenge.parameters.MFAS_CAN_SETUP).includes("SOFTWARE_TOKEN_MFA")) {
      throw new CognitoError("", "Sign-in needs a second factor this page cannot set up; please contact us.");
    }
    const associated = await cognito("AssociateSoftwareToken", { Session: challenge.session });
    totpStep(associated.SecretCode, challenge.email, "Set up two-step sign-in to continue", async (code) => {
      const verified = await cognito("VerifySoftwareToken", {
        Session: associated.Session,
        UserCode: code,
        FriendlyDeviceName: `${ISSUER} authenticator`,
      });
      return proceed(await respond({ ...challenge, session: verified.Session }, {}), challenge.email);
    });
  },
};

async function codeStep(challenge) {
  const [key, label] = CODE_RESPONSE[challenge.name];
  showStep("Enter your code", [], [codeField(label)], "Sign in", async ({ code }) =>
    proceed(await respond(challenge, { [key]: code.trim() }), challenge.email),
  );
}

// Enrolling an authenticator: the secret as text and as an otpauth:// link, then a code that proves it.
function totpStep(secret, email, title, confirm) {
  const label = `${encodeURIComponent(ISSUER)}:${encodeURIComponent(email)}`;
  const uri = `otpauth://totp/${label}?secret=${secret}&issuer=${encodeURIComponent(ISSUER)}`;
  const intro = [
    element("p", { textContent: "Add this key to your authenticator app (or open the link on this device):" }),
    element("p", {}, element("code", { id: "totp-secret", textContent: secret })),
    element("p", {}, element("a", { id: "totp-link", href: uri, textContent: "Add to an authenticator app" })),
  ];
  showStep(title, intro, [codeField("Code from your authenticator app")], "Turn on", ({ code }) =>
    confirm(code.trim()),
  );
}

async function signedIn(tokens, email) {
  sessionStorage.setItem("idToken", tokens.IdToken);
  sessionStorage.setItem("accessToken", tokens.AccessToken);
  // Kept only to revoke the session at sign-out (the page never refreshes tokens).
  sessionStorage.setItem("refreshToken", tokens.RefreshToken || "");
  sessionStorage.setItem("email", email);
  $("#sign-in-form").reset(); // the password is not left in the page
  $("#step").hidden = true;
  $("#step-body").replaceChildren();
  await refreshFactors();
  showAccount();
  say("Signed in.", "ok");
}

// Whether the customer has TOTP on decides what the account menu offers.
async function refreshFactors() {
  try {
    const user = await cognito("GetUser", { AccessToken: sessionStorage.getItem("accessToken") });
    const on = (user.UserMFASettingList || []).includes("SOFTWARE_TOKEN_MFA");
    sessionStorage.setItem("totp", on ? "on" : "off");
  } catch {
    sessionStorage.removeItem("totp");
  }
}

async function enrolTotp() {
  const accessToken = sessionStorage.getItem("accessToken");
  const email = sessionStorage.getItem("email");
  say("One moment…", "busy");
  try {
    const { SecretCode } = await cognito("AssociateSoftwareToken", { AccessToken: accessToken });
    totpStep(SecretCode, email, "Set up two-step sign-in", async (code) => {
      await cognito("VerifySoftwareToken", {
        AccessToken: accessToken,
        UserCode: code,
        FriendlyDeviceName: `${ISSUER} authenticator`,
      });
      await cognito("SetUserMFAPreference", {
        AccessToken: accessToken,
        SoftwareTokenMfaSettings: { Enabled: true, PreferredMfa: true },
      });
      sessionStorage.setItem("totp", "on");
      endStep();
      say("Two-step sign-in is on: from now on you sign in with a code from your authenticator app.", "ok");
    });
    say("Add the key to your authenticator app, then enter its code.");
  } catch (error) {
    if (error.code === "NotAuthorizedException") {
      signOut("Your session has expired: please sign in again.");
    } else {
      say(explain(error), "error");
    }
  }
}

function showAccount() {
  const email = sessionStorage.getItem("email");
  const stepping = !$("#step").hidden;
  $("#who").textContent = email ? `Signed in as ${email}` : "";
  $("#sign-out").hidden = !email;
  $("#totp-on").hidden = !email || stepping || sessionStorage.getItem("totp") !== "off";
  $("#sign-in").hidden = Boolean(email) || stepping;
}

// Signing out forgets the tokens and the sign-in form, and revokes the session at Cognito: its refresh
// token and the access tokens issued with it stop working (an ID token the API already accepted stays
// valid until it expires, within the hour; the page no longer has it).
async function signOut(message) {
  const refreshToken = sessionStorage.getItem("refreshToken");
  for (const key of ["idToken", "accessToken", "refreshToken", "email", "totp"]) {
    sessionStorage.removeItem(key);
  }
  $("#sign-in-form").reset();
  endStep();
  say("Signing out…", "busy");
  let revoked = true;
  if (refreshToken) {
    try {
      await cognito("RevokeToken", { ClientId: config.userPoolClientId, Token: refreshToken });
    } catch (error) {
      revoked = false;
      say(`${message} This device forgot the sign-in, but Cognito could not revoke it: ${error.message}`, "error");
    }
  }
  if (revoked) {
    say(message, message.startsWith("Signed out") ? "info" : "error");
  }
  $("#email").focus();
}

// A forgotten password: Cognito emails a code (recovery is by email only), and the code sets a new one.
function forgotPassword() {
  const email = element("input", { id: "reset-email", type: "email", autocomplete: "username", required: true });
  email.value = $("#email").value;
  showStep(
    "Reset your password",
    [element("p", { textContent: "We will email you a code to choose a new password with." })],
    [{ id: "reset-email", label: "Email", control: email }],
    "Send the code",
    async (values) => {
      const username = values["reset-email"].trim();
      await cognito("ForgotPassword", { ClientId: config.userPoolClientId, Username: username });
      say("If that email has an account, a code is on its way.");
      showStep(
        "Choose a new password",
        [element("p", { textContent: `Enter the code we emailed to ${username}, and your new password.` })],
        [
          codeField("Code from the email we sent"),
          passwordField("new-password", "New password"),
          passwordField("repeat-password", "New password, again"),
        ],
        "Save password",
        async (chosen) => {
          if (chosen["new-password"] !== chosen["repeat-password"]) {
            throw new CognitoError("InvalidPasswordException", "the two passwords differ");
          }
          try {
            await cognito("ConfirmForgotPassword", {
              ClientId: config.userPoolClientId,
              Username: username,
              ConfirmationCode: chosen.code.trim(),
              Password: chosen["new-password"],
            });
          } catch (error) {
            if (["CodeMismatchException", "ExpiredCodeException"].includes(error.code)) {
              throw new CognitoError(
                "ResetCodeRefused",
                "That code is not right or has expired: check the latest email, or cancel and ask again.",
              );
            }
            throw error;
          }
          endStep();
          $("#email").value = username;
          say("Your password is changed: sign in with it.", "ok");
          $("#password").focus();
        },
      );
    },
  );
}

// ------------------------------------------------------------------------------------ ordering

async function placeOrder(product, quantity) {
  if (!token()) {
    signOut("Sign in to order.");
    return;
  }
  say("Placing your order…", "busy");
  // The price is the catalog's, charged by the shop: the order names products and quantities only.
  const order = { orderId: crypto.randomUUID(), items: [{ sku: product.id, quantity }] };
  const response = await fetch("/api/orders", {
    method: "POST",
    headers: { "Content-Type": "application/json", Authorization: token() },
    body: JSON.stringify(order),
  });
  const answer = await response.json().catch(() => ({}));
  const retryAfter = response.headers.get("Retry-After");
  switch (response.status) {
    case 202:
      say(
        `Order placed: ${quantity} × ${product.name}, ${money(product.priceCents * quantity)} ` +
          `(request ${answer.requestId}). Thank you!`,
        "ok",
      );
      break;
    case 400:
      say(
        `The order was refused: ${answer.message || "check the quantity"}` + (answer.hint ? ` ${answer.hint}` : ""),
        "error",
      );
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

// ------------------------------------------------------------------------------------ the catalog

async function showCatalog() {
  const response = await fetch("/api/catalog/products");
  const { products } = await response.json();
  main.replaceChildren();
  const list = element("ul", { className: "products" });
  for (const product of products) {
    const link = element("a", { href: `/products/${encodeURIComponent(product.id)}`, textContent: product.name });
    link.dataset.route = "";
    const item = element("li", {}, link, ` ${money(product.priceCents)}`);
    if (!product.inStock) {
      item.append(element("span", { className: "out-of-stock", textContent: " (out of stock)" }));
    }
    list.append(item);
  }
  main.append(element("h1", { textContent: "Catalog" }), list);
}

async function showProduct(id) {
  const response = await fetch(`/api/catalog/products/${encodeURIComponent(id)}`);
  main.replaceChildren();
  if (!response.ok) {
    main.append(
      element("h1", { textContent: "No such product" }),
      element("p", { textContent: "The catalog has no such product, so it cannot be ordered." }),
    );
    return;
  }
  const product = await response.json();
  main.append(element("h1", { textContent: product.name }), element("p", { textContent: money(product.priceCents) }));
  if (!product.inStock) {
    main.append(
      element("p", {
        className: "out-of-stock",
        textContent: "Out of stock: it cannot be ordered until it is back, and an order for it would be refused.",
      }),
    );
    return;
  }
  const quantity = element("input", { id: "quantity", type: "number", min: "1", value: "1" });
  const form = element(
    "form",
    { id: "order-form" },
    element("label", { htmlFor: "quantity", textContent: "Quantity" }),
    quantity,
    element("button", { type: "submit", textContent: "Place order" }),
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    placeOrder(product, Number(quantity.value));
  });
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
$("#forgot-password").addEventListener("click", forgotPassword);
$("#totp-on").addEventListener("click", enrolTotp);

config = await (await fetch("/config.json")).json();
showAccount();
await route();
