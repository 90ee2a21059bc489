package dev.gatehouse.gateway.backend.vertex;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.crypto.RSASSAVerifier;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.gatehouse.gateway.backend.anthropic.MockAnthropic;
import dev.gatehouse.gateway.backend.gemini.MockGemini;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URLDecoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.interfaces.RSAPublicKey;
import java.util.Base64;
import java.util.Date;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A fake Google Cloud on a free loopback port: an OAuth2 token endpoint and Vertex AI's
 * aiplatform endpoints for both publishers. The token endpoint does what oauth2.googleapis.com
 * does with a service account's grant: it checks the grant type and the JWT assertion's RS256
 * signature (with the public half of the key in {@link #serviceAccountJson()}), issuer, audience
 * (Google's token URL, whatever token_uri says) and scope, and hands out an access token with a lifetime. The model endpoints take only a live
 * token for {@link #PROJECT} in {@link #LOCATION}, check each publisher's path and body
 * (Claude: {@code anthropic_version} and no {@code model}), and relay the request to a
 * {@link MockGemini} or {@link MockAnthropic}, whose answers, tools and faults they are.
 */
public final class MockVertex implements AutoCloseable {
    public static final String PROJECT = "gatehouse-test";
    public static final String LOCATION = "us-east5";
    public static final String CLIENT_EMAIL = "gatehouse@gatehouse-test.iam.gserviceaccount.com";
    static final String JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer";
    private static final Pattern MODEL_PATH = Pattern.compile(
            "/v1/projects/([^/]+)/locations/([^/]+)/publishers/([^/]+)/models/([^/:]+):([A-Za-z]+)");

    /** Vertex's own refusals, in Google's error shape, for either publisher. */
    public enum Fault {
        /** 429 RESOURCE_EXHAUSTED: the project's quota for the base model */
        QUOTA_EXHAUSTED,
        /** 503 UNAVAILABLE */
        UNAVAILABLE,
        /** the token endpoint answers 400 invalid_grant */
        GRANT_REFUSED,
        /** every token handed out so far is revoked: the next request is refused with 401 */
        TOKENS_REVOKED
    }

    /** What a model endpoint received: its path, query, Authorization header and body as Vertex got them. */
    public record Received(String path, String query, String authorization, JsonNode body) {}

    private static final ObjectMapper JSON = new ObjectMapper();
    private final KeyPair key;
    private final MockGemini gemini = new MockGemini();
    private final MockAnthropic anthropic = new MockAnthropic();
    private final HttpClient relay = HttpClient.newHttpClient();
    private final HttpServer server;
    private final Queue<Fault> faults = new ConcurrentLinkedQueue<>();
    private final Queue<Integer> lifetimes = new ConcurrentLinkedQueue<>();
    private final Map<String, Long> liveUntil = new ConcurrentHashMap<>(); // token -> expiry, epoch millis
    private final AtomicInteger grants = new AtomicInteger();
    private final List<Received> received = new CopyOnWriteArrayList<>();

    public MockVertex() throws Exception {
        KeyPairGenerator generator = KeyPairGenerator.getInstance("RSA");
        generator.initialize(2048);
        key = generator.generateKeyPair();
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/token", this::token);
        server.createContext("/v1/projects/", this::predict);
        server.setExecutor(Executors.newVirtualThreadPerTaskExecutor());
        server.start();
    }

    /** {@code http://127.0.0.1:PORT}, what base-url takes. */
    public String baseUrl() {
        return "http://127.0.0.1:" + server.getAddress().getPort();
    }

    /** A service-account key file whose token_uri is this mock's, signed with the key the mock checks. */
    public String serviceAccountJson() {
        return serviceAccountJson(key);
    }

    /** The same file with another private key: its grants fail the signature check. */
    public String serviceAccountJsonWithAnotherKey() throws Exception {
        KeyPairGenerator generator = KeyPairGenerator.getInstance("RSA");
        generator.initialize(2048);
        return serviceAccountJson(generator.generateKeyPair());
    }

    private String serviceAccountJson(KeyPair pair) {
        String pem = "-----BEGIN PRIVATE KEY-----\n"
                + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(pair.getPrivate().getEncoded())
                + "\n-----END PRIVATE KEY-----\n";
        ObjectNode file = JSON.createObjectNode().put("type", "service_account").put("project_id", PROJECT)
                .put("private_key_id", "0123456789abcdef").put("private_key", pem).put("client_email", CLIENT_EMAIL)
                .put("client_id", "100000000000000000001").put("auth_uri", "https://accounts.google.com/o/oauth2/auth")
                .put("token_uri", baseUrl() + "/token");
        return file.toString();
    }

    public void failNext(Fault... next) {
        faults.addAll(List.of(next));
    }

    /** The lifetime (expires_in, seconds) of the next tokens handed out; 3600 after these. */
    public void nextTokenLifetimes(Integer... seconds) {
        lifetimes.addAll(List.of(seconds));
    }

    public void clearFaults() {
        faults.clear();
        lifetimes.clear();
        gemini.clearFaults();
        anthropic.clearFaults();
    }

    /** How many grants the token endpoint has accepted. */
    public int grants() {
        return grants.get();
    }

    public List<Received> received() {
        return received;
    }

    /** The Gemini behind the google publisher: its faults apply to Vertex's Gemini models. */
    public MockGemini gemini() {
        return gemini;
    }

    /** The Claude behind the anthropic publisher. */
    public MockAnthropic anthropic() {
        return anthropic;
    }

    private void token(HttpExchange ex) throws IOException {
        Map<String, String> form = form(new String(ex.getRequestBody().readAllBytes(), StandardCharsets.UTF_8));
        if (faults.peek() == Fault.GRANT_REFUSED) {
            faults.poll();
            send(ex, 400, "{\"error\":\"invalid_grant\",\"error_description\":\"Invalid grant: account not found\"}");
            return;
        }
        String refusal = refusal(form);
        if (refusal != null) {
            send(ex, 400, JSON.createObjectNode().put("error", "invalid_grant").put("error_description", refusal).toString());
            return;
        }
        int n = grants.incrementAndGet();
        Integer lifetime = lifetimes.poll();
        int seconds = lifetime == null ? 3600 : lifetime;
        String token = "ya29.mock-token-" + n + "-abcdefghijklmnopqrstuvwxyz";
        liveUntil.put(token, System.currentTimeMillis() + seconds * 1000L);
        send(ex, 200, JSON.createObjectNode().put("access_token", token).put("expires_in", seconds)
                .put("token_type", "Bearer").toString());
    }

    /** Why a grant is refused; null when its JWT assertion is this service account's, signed with its key, for Vertex. */
    private String refusal(Map<String, String> form) {
        if (!JWT_BEARER.equals(form.get("grant_type"))) {
            return "unsupported grant_type " + form.get("grant_type");
        }
        try {
            SignedJWT jwt = SignedJWT.parse(form.getOrDefault("assertion", ""));
            if (!jwt.getHeader().getAlgorithm().equals(JWSAlgorithm.RS256)
                    || !jwt.verify(new RSASSAVerifier((RSAPublicKey) key.getPublic()))) {
                return "Invalid JWT Signature.";
            }
            JWTClaimsSet claims = jwt.getJWTClaimsSet();
            if (!CLIENT_EMAIL.equals(claims.getIssuer()) || !claims.getAudience().contains("https://oauth2.googleapis.com/token")
                    || claims.getExpirationTime() == null || claims.getExpirationTime().before(new Date())
                    || !String.valueOf(claims.getStringClaim("scope")).contains("https://www.googleapis.com/auth/cloud-platform")) {
                return "Invalid JWT claims: " + claims.toJSONObject();
            }
            return null;
        } catch (Exception e) {
            return "Invalid JWT: " + e.getMessage();
        }
    }

    private void predict(HttpExchange ex) throws IOException {
        JsonNode body = JSON.readTree(ex.getRequestBody());
        String authorization = ex.getRequestHeaders().getFirst("Authorization");
        received.add(new Received(ex.getRequestURI().getPath(), ex.getRequestURI().getQuery(), authorization, body.deepCopy()));
        if (faults.peek() == Fault.TOKENS_REVOKED) {
            faults.poll();
            liveUntil.clear();
        }
        String token = authorization != null && authorization.startsWith("Bearer ") ? authorization.substring(7) : "";
        if (liveUntil.getOrDefault(token, 0L) < System.currentTimeMillis()) {
            send(ex, 401, """
                    {"error":{"code":401,"message":"Request had invalid authentication credentials. Expected OAuth 2 access token, \
                    login cookie or other valid authentication credential.","status":"UNAUTHENTICATED"}}""");
            return;
        }
        Matcher m = MODEL_PATH.matcher(ex.getRequestURI().getPath());
        if (!m.matches() || !m.group(1).equals(PROJECT) || !m.group(2).equals(LOCATION)) {
            send(ex, 404, "{\"error\":{\"code\":404,\"message\":\"Not found: " + ex.getRequestURI().getPath()
                    + "\",\"status\":\"NOT_FOUND\"}}");
            return;
        }
        Fault fault = faults.peek() == Fault.GRANT_REFUSED ? null : faults.poll();
        if (fault == Fault.QUOTA_EXHAUSTED) {
            send(ex, 429, """
                    {"error":{"code":429,"message":"Quota exceeded for aiplatform.googleapis.com/online_prediction_requests_per_base_model \
                    with base model: %s. Please submit a quota increase request.","status":"RESOURCE_EXHAUSTED"}}""".formatted(m.group(4)));
            return;
        }
        if (fault == Fault.UNAVAILABLE) {
            send(ex, 503, "{\"error\":{\"code\":503,\"message\":\"The service is currently unavailable.\",\"status\":\"UNAVAILABLE\"}}");
            return;
        }
        String publisher = m.group(3);
        String model = m.group(4);
        String method = m.group(5);
        if (publisher.equals("google") && (method.equals("generateContent")
                || method.equals("streamGenerateContent") && "alt=sse".equals(ex.getRequestURI().getQuery()))) {
            relay(ex, URI.create(gemini.baseUrl() + "/v1beta/models/" + model + ":" + method
                    + (ex.getRequestURI().getQuery() == null ? "" : "?" + ex.getRequestURI().getQuery())), body);
        } else if (publisher.equals("anthropic") && (method.equals("rawPredict") || method.equals("streamRawPredict"))) {
            if (!body.path("anthropic_version").asText().equals("vertex-2023-10-16") || body.has("model")
                    || body.path("stream").asBoolean(false) != method.equals("streamRawPredict")) {
                send(ex, 400, """
                        {"type":"error","error":{"type":"invalid_request_error","message":"anthropic_version: \
                        vertex-2023-10-16 is required, model is not allowed, stream must match the method"}}""");
                return;
            }
            ((ObjectNode) body).put("model", model).remove("anthropic_version");
            relay(ex, URI.create(anthropic.baseUrl() + "/v1/messages"), body);
        } else {
            send(ex, 404, "{\"error\":{\"code\":404,\"message\":\"Publisher model `" + publisher + "/" + model + ":" + method
                    + "` not found.\",\"status\":\"NOT_FOUND\"}}");
        }
    }

    /** Passes the request to the publisher's mock and its answer back as it comes (status, type, Retry-After, body). */
    private void relay(HttpExchange ex, URI to, JsonNode body) throws IOException {
        HttpResponse<InputStream> answer;
        try {
            answer = relay.send(HttpRequest.newBuilder(to).header("Content-Type", "application/json")
                    .header("x-api-key", MockAnthropic.KEY).header("x-goog-api-key", MockGemini.KEY)
                    .POST(HttpRequest.BodyPublishers.ofString(body.toString())).build(), HttpResponse.BodyHandlers.ofInputStream());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException(e);
        }
        answer.headers().firstValue("Content-Type").ifPresent(v -> ex.getResponseHeaders().add("Content-Type", v));
        answer.headers().firstValue("retry-after").ifPresent(v -> ex.getResponseHeaders().add("Retry-After", v));
        ex.sendResponseHeaders(answer.statusCode(), 0);
        try (InputStream in = answer.body(); OutputStream out = ex.getResponseBody()) {
            byte[] buffer = new byte[8192];
            for (int n; (n = in.read(buffer)) > 0; ) {
                out.write(buffer, 0, n);
                out.flush();
            }
        }
    }

    private static Map<String, String> form(String body) {
        Map<String, String> form = new HashMap<>();
        for (String pair : body.split("&")) {
            int eq = pair.indexOf('=');
            if (eq > 0) {
                form.put(URLDecoder.decode(pair.substring(0, eq), StandardCharsets.UTF_8),
                        URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8));
            }
        }
        return form;
    }

    private static void send(HttpExchange ex, int status, String json) throws IOException {
        byte[] bytes = json.getBytes(StandardCharsets.UTF_8);
        ex.getResponseHeaders().add("Content-Type", "application/json; charset=UTF-8");
        ex.sendResponseHeaders(status, bytes.length);
        try (OutputStream out = ex.getResponseBody()) {
            out.write(bytes);
        }
    }

    @Override
    public void close() {
        server.stop(0);
        relay.close();
        gemini.close();
        anthropic.close();
    }
}
