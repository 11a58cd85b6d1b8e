import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * Times the catalog handler in one JVM: static initialisation, the first request after it, and
 * steady-state requests. Prints one JSON line; the JVM's own start is timed by the caller, from process
 * launch to the wall-clock millisecond printed as "mainEnteredMs".
 */
public final class CatalogBench {
    private static final byte[] EVENT = ("{\"version\":\"2.0\",\"rawPath\":\"/products/green-tea\","
            + "\"requestContext\":{\"http\":{\"method\":\"GET\",\"path\":\"/products/green-tea\"}}}")
            .getBytes(StandardCharsets.UTF_8);

    public static void main(String[] args) throws Exception {
        long mainEnteredMs = System.currentTimeMillis();
        int steadyRequests = args.length > 0 ? Integer.parseInt(args[0]) : 2000;

        long t0 = System.nanoTime();
        Class<?> handlerClass = Class.forName("catalog.CatalogHandler");  // runs static initialisation
        Object handler = handlerClass.getDeclaredConstructor().newInstance();
        java.lang.reflect.Method handle = handlerClass.getMethod(
                "handleRequest", java.io.InputStream.class, java.io.OutputStream.class);
        long t1 = System.nanoTime();

        long first = invoke(handler, handle);
        long[] steady = new long[steadyRequests];
        for (int i = 0; i < steadyRequests; i++) {
            steady[i] = invoke(handler, handle);
        }
        Arrays.sort(steady);
        long median = steady[steadyRequests / 2];
        System.out.printf(
                "{\"mainEnteredMs\":%d,\"staticInitNs\":%d,\"firstRequestNs\":%d,\"steadyMedianNs\":%d}%n",
                mainEnteredMs, t1 - t0, first, median);
    }

    private static long invoke(Object handler, java.lang.reflect.Method handle) throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        long start = System.nanoTime();
        handle.invoke(handler, new ByteArrayInputStream(EVENT), out);
        long elapsed = System.nanoTime() - start;
        if (!out.toString(StandardCharsets.UTF_8).contains("\"statusCode\":200")) {
            throw new IllegalStateException("unexpected response: " + out);
        }
        return elapsed;
    }
}
