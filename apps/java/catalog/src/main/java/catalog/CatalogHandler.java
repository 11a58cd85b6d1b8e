package catalog;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.regex.Pattern;

/**
 * Product catalog API for API Gateway proxy (REST, payload 1.0) and Lambda function URL (payload 2.0) events.
 *
 * <ul>
 *   <li>{@code GET .../products} lists products, optionally {@code ?category=coffee};</li>
 *   <li>{@code GET .../products/{id}} answers one product, or 404;</li>
 *   <li>a malformed event or product id answers 400, another method 405.</li>
 * </ul>
 *
 * <p>Handler string: {@code catalog.CatalogHandler::handleRequest}. The class has no dependency beyond the JDK.
 */
public final class CatalogHandler {
    private static final Pattern PRODUCT_ID = Pattern.compile("[a-z0-9-]{1,40}");
    private static final Map<String, Map<String, Object>> PRODUCTS;
    private static final List<Map<String, Object>> PRODUCT_LIST;

    // Priming runs here, in static initialisation, so the SnapStart snapshot holds a warm JVM: the catalog is
    // loaded and indexed, and one full request runs through parsing, routing and JSON writing so their classes
    // are loaded and their code has been executed once.
    //
    // Nothing unique is created here. Every execution environment restored from the snapshot shares this
    // memory, so a request id, a random value or a timestamp made now would be the same in all of them.
    // Request ids are made per request, in handle().
    static {
        Map<String, Map<String, Object>> byId = new LinkedHashMap<>();
        for (Object item : (List<?>) asMap(Json.parse(readResource("catalog.json"))).get("products")) {
            Map<String, Object> product = asMap(item);
            byId.put((String) product.get("id"), Collections.unmodifiableMap(product));
        }
        PRODUCTS = Collections.unmodifiableMap(byId);
        PRODUCT_LIST = Collections.unmodifiableList(new ArrayList<>(byId.values()));
        String firstId = PRODUCT_LIST.isEmpty() ? "none" : (String) PRODUCT_LIST.get(0).get("id");
        handle("{\"rawPath\":\"/products/" + firstId + "\",\"requestContext\":{\"http\":{\"method\":\"GET\"}}}");
    }

    /** Lambda entry point: the event JSON in, the proxy response JSON out. */
    public void handleRequest(InputStream input, OutputStream output) throws IOException {
        output.write(handle(readAll(input)).getBytes(StandardCharsets.UTF_8));
    }

    /** Local entry point for tests: reads one event from standard input and prints the response. */
    public static void main(String[] args) throws IOException {
        new CatalogHandler().handleRequest(System.in, System.out);
        System.out.flush();
    }

    static String handle(String eventJson) {
        String requestId = UUID.randomUUID().toString();
        Map<String, Object> event;
        try {
            event = asMap(Json.parse(eventJson));
        } catch (IllegalArgumentException | ClassCastException ex) {
            return response(400, requestId, error("the event is not a JSON object"));
        }
        String method = method(event);
        String path = path(event);
        if (method == null || path == null) {
            return response(400, requestId, error("the event has no HTTP method or path"));
        }
        if (!"GET".equals(method)) {
            return response(405, requestId, error(method + " is not allowed; use GET"));
        }
        int at = path.indexOf("/products");
        if (at < 0) {
            return response(404, requestId, error("no route for " + path));
        }
        String rest = path.substring(at + "/products".length());
        if (rest.isEmpty() || "/".equals(rest)) {
            return response(200, requestId, listing(query(event, "category")));
        }
        String id = rest.substring(1);
        if (!PRODUCT_ID.matcher(id).matches()) {
            return response(400, requestId, error("a product id is 1-40 lowercase letters, digits or '-'"));
        }
        Map<String, Object> product = PRODUCTS.get(id);
        if (product == null) {
            return response(404, requestId, error("no product " + id));
        }
        return response(200, requestId, product);
    }

    private static Map<String, Object> listing(String category) {
        List<Map<String, Object>> items = new ArrayList<>();
        for (Map<String, Object> product : PRODUCT_LIST) {
            if (category == null || category.equals(product.get("category"))) {
                items.add(product);
            }
        }
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("count", items.size());
        body.put("products", items);
        return body;
    }

    private static String method(Map<String, Object> event) {
        Object v1 = event.get("httpMethod");
        if (v1 instanceof String) {
            return (String) v1;
        }
        Object context = event.get("requestContext");
        if (context instanceof Map) {
            Object http = ((Map<?, ?>) context).get("http");
            if (http instanceof Map && ((Map<?, ?>) http).get("method") instanceof String) {
                return (String) ((Map<?, ?>) http).get("method");
            }
        }
        return null;
    }

    private static String path(Map<String, Object> event) {
        Object raw = event.get("rawPath");
        if (raw instanceof String) {
            return (String) raw;
        }
        Object v1 = event.get("path");
        return v1 instanceof String ? (String) v1 : null;
    }

    private static String query(Map<String, Object> event, String name) {
        Object params = event.get("queryStringParameters");
        if (params instanceof Map && ((Map<?, ?>) params).get(name) instanceof String) {
            return (String) ((Map<?, ?>) params).get(name);
        }
        return null;
    }

    private static Map<String, Object> error(String message) {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("message", message);
        return body;
    }

    private static String response(int status, String requestId, Object body) {
        Map<String, Object> headers = new LinkedHashMap<>();
        headers.put("content-type", "application/json");
        headers.put("x-request-id", requestId);
        Map<String, Object> response = new LinkedHashMap<>();
        response.put("statusCode", status);
        response.put("headers", headers);
        response.put("body", Json.write(body));
        return Json.write(response);
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> asMap(Object value) {
        if (!(value instanceof Map)) {
            throw new ClassCastException("expected a JSON object");
        }
        return (Map<String, Object>) value;
    }

    private static String readResource(String name) {
        try (InputStream in = CatalogHandler.class.getClassLoader().getResourceAsStream(name)) {
            if (in == null) {
                throw new IllegalStateException("missing resource " + name);
            }
            return readAll(in);
        } catch (IOException ex) {
            throw new IllegalStateException("cannot read " + name, ex);
        }
    }

    private static String readAll(InputStream in) throws IOException {
        ByteArrayOutputStream buffer = new ByteArrayOutputStream();
        byte[] chunk = new byte[8192];
        int n;
        while ((n = in.read(chunk)) != -1) {
            buffer.write(chunk, 0, n);
        }
        return buffer.toString(StandardCharsets.UTF_8.name());
    }
}
