package dev.gatehouse.gateway.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.gatehouse.gateway.api.openai.TestServer;
import dev.gatehouse.gateway.auth.ApiAuth;
import dev.gatehouse.gateway.config.GatehouseConfig;
import dev.gatehouse.gateway.config.ServerLimits;
import dev.gatehouse.gateway.store.KeyStore;
import dev.gatehouse.gateway.usage.Pricing;
import dev.gatehouse.gateway.usage.UsageLog;
import dev.gatehouse.gateway.usage.UsageRecorder;
import dev.gatehouse.serving.engine.Capacity;
import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Named;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Hostile input against every endpoint, as raw bytes over real sockets to a real server with a local
 * model, keys and the admin API: each request gets a 4xx in OpenAI's error shape (the admin API
 * answers in it too), nothing of Java's internals, and the server keeps serving. Afterwards
 * /metrics shows every KV slot free, no request in flight but the scrape, and no concurrency slot
 * held. (BadRequestCorpusTest pins the exact status and param of each /v1 mistake; this corpus is
 * about breadth: the admin API, keys, hostile sizes and shapes.)
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class HostileInputCorpusTest {
    static final String MASTER = "sk-master-hostile-corpus-test-0123456789";
    static final ObjectMapper JSON = new ObjectMapper();
    static final Pattern LEAK = Pattern.compile("\\bat (dev|java|jdk|com|io|org|sun)\\.|Exception|`|\\[Source|"
            + "dev\\.gatehouse|com\\.fasterxml|io\\.helidon|java\\.lang");
    static final String LONG_NAME = "n".repeat(257);

    @TempDir
    static Path dir;
    static KeyStore keys;
    static TestServer server;
    /** A virtual key with max-concurrent, so a refused request that took a concurrency slot would show. */
    static String key;

    @BeforeAll
    static void start() throws Exception {
        keys = KeyStore.open(dir.resolve("gatehouse.db"));
        key = keys.create(new KeyStore.Spec("corpus", List.of(), 100_000, null, 4, null, null, null)).key();
        ServerLimits limits = new ServerLimits(Duration.ofSeconds(60), Duration.ofSeconds(30), Duration.ofSeconds(60),
                Duration.ofSeconds(60), 1024, 512, 1_000_000); // the auth-failure limit has its own test
        server = TestServer.start(dir, (builder, registry) -> builder.auth(new ApiAuth(MASTER, keys)).limits(limits)
                .usage(new UsageRecorder(Pricing.of(GatehouseConfig.empty()), UsageLog.open(dir.resolve("usage.db")),
                        Clock.systemUTC(), registry)));
    }

    @AfterAll
    static void stop() throws Exception {
        if (server != null) {
            server.close();
        }
        if (keys != null) {
            keys.close();
        }
    }

    record Row(String method, String path, String auth, byte[] body) {}

    static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] p : parts) {
            out.writeBytes(p);
        }
        return out.toByteArray();
    }

    /** Bodies that are wrong for any JSON endpoint. */
    static List<Named<byte[]>> malformed() {
        List<Named<byte[]>> b = new ArrayList<>();
        b.add(Named.of("empty", new byte[0]));
        b.add(Named.of("truncated", utf8("{\"name\": \"x")));
        b.add(Named.of("array", utf8("[{}]")));
        b.add(Named.of("number", utf8("7")));
        b.add(Named.of("null", utf8("null")));
        b.add(Named.of("trailing garbage", utf8("{} }")));
        b.add(Named.of("single quotes", utf8("{'a': 1}")));
        b.add(Named.of("nested 50000 deep", utf8("[".repeat(50_000) + "]".repeat(50_000))));
        b.add(Named.of("nested objects 20000 deep", utf8("{\"a\":".repeat(20_000) + "1" + "}".repeat(20_000))));
        b.add(Named.of("invalid UTF-8", concat(utf8("{\"name\":\""), new byte[] {(byte) 0xff, (byte) 0xfe}, utf8("\"}"))));
        b.add(Named.of("overlong UTF-8", concat(utf8("{\"name\":\""), new byte[] {(byte) 0xc0, (byte) 0xaf}, utf8("\"}"))));
        b.add(Named.of("NUL bytes", concat(utf8("{\"name\":"), new byte[] {0, 0, 0}, utf8("}"))));
        b.add(Named.of("number of 100000 digits", utf8("{\"rpm\":" + "9".repeat(100_000) + "}")));
        b.add(Named.of("string of 900 KB", utf8("{\"x\":\"" + "a".repeat(900_000) + "\"}")));
        b.add(Named.of("body over 1 MiB", utf8("{\"x\":\"" + "a".repeat(1_100_000) + "\"}")));
        return b;
    }

    static String chat(String extra) {
        return "{\"model\":\"" + TestServer.MODEL + "\",\"messages\":[{\"role\":\"user\",\"content\":\"t5\"}],\"max_tokens\":1"
                + extra + "}";
    }

    static Stream<Named<Row>> corpus() {
        List<Named<Row>> rows = new ArrayList<>();
        class Add {
            void row(String name, String method, String path, String auth, byte[] body) {
                rows.add(Named.of(method + " " + (path.length() > 60 ? path.substring(0, 60) + "..." : path) + ": " + name,
                        new Row(method, path, auth, body)));
            }
        }
        Add add = new Add();

        // /v1 with the master key and with a limited virtual key
        for (String who : List.of("master", "key")) {
            String auth = who.equals("master") ? MASTER : key;
            for (String path : List.of("/v1/chat/completions", "/v1/completions", "/v1/embeddings")) {
                for (Named<byte[]> b : malformed()) {
                    add.row(who + ", " + b.getName(), "POST", path, auth, b.getPayload());
                }
            }
            String p = "/v1/chat/completions";
            add.row(who + ", model of 257 characters", "POST", p, auth, utf8(chat("").replace(TestServer.MODEL, LONG_NAME)));
            add.row(who + ", user of 257 characters", "POST", p, auth, utf8(chat(",\"user\":\"" + LONG_NAME + "\"")));
            add.row(who + ", stop of 257 characters", "POST", p, auth, utf8(chat(",\"stop\":[\"" + LONG_NAME + "\"]")));
            add.row(who + ", 100000 stop strings", "POST", p, auth, utf8(chat(",\"stop\":[" + "\"a\",".repeat(99_999) + "\"a\"]")));
            add.row(who + ", 60000 messages", "POST", p, auth, utf8("{\"model\":\"" + TestServer.MODEL + "\",\"messages\":["
                    + "{\"role\":\"user\",\"content\":\"t\"},".repeat(59_999) + "{\"role\":\"user\",\"content\":\"t\"}]}"));
            add.row(who + ", 20000 content parts", "POST", p, auth, utf8("{\"model\":\"" + TestServer.MODEL
                    + "\",\"messages\":[{\"role\":\"user\",\"content\":[" + "{\"type\":\"text\",\"text\":\" t5\"},".repeat(19_999)
                    + "{\"type\":\"text\",\"text\":\" t5\"}]}]}"));
            add.row(who + ", n of 2^31", "POST", p, auth, utf8(chat(",\"n\":2147483648")));
            add.row(who + ", max_tokens as object", "POST", p, auth, utf8(chat("").replace("\"max_tokens\":1", "\"max_tokens\":{\"a\":1}")));
            add.row(who + ", messages as a string", "POST", p, auth, utf8("{\"model\":\"" + TestServer.MODEL + "\",\"messages\":\"hi\"}"));
            add.row(who + ", content nested 5000 deep", "POST", p, auth, utf8("{\"model\":\"" + TestServer.MODEL
                    + "\",\"messages\":[{\"role\":\"user\",\"content\":" + "[".repeat(5000) + "]".repeat(5000) + "}]}"));
            add.row(who + ", prompt of 20000 prompts", "POST", "/v1/completions", auth, utf8("{\"model\":\"" + TestServer.MODEL
                    + "\",\"prompt\":[" + "\"t\",".repeat(19_999) + "\"t\"]}"));
            add.row(who + ", prompt of 200000 token ids", "POST", "/v1/completions", auth, utf8("{\"model\":\"" + TestServer.MODEL
                    + "\",\"prompt\":[" + "5,".repeat(199_999) + "5]}"));
            add.row(who + ", 50000 embedding inputs", "POST", "/v1/embeddings", auth, utf8("{\"model\":\"all-minilm-l6-v2\",\"input\":["
                    + "\"a\",".repeat(49_999) + "\"a\"]}"));
            add.row(who + ", embedding model of 257 characters", "POST", "/v1/embeddings", auth,
                    utf8("{\"model\":\"" + LONG_NAME + "\",\"input\":\"a\"}"));
            add.row(who + ", model id of 257 characters", "GET", "/v1/models/" + LONG_NAME, auth, null);
            add.row(who + ", unknown model", "GET", "/v1/models/no-such", auth, null);
            add.row(who + ", unknown path", "GET", "/v1/" + "x/".repeat(100), auth, null);
            add.row(who + ", wrong method", "PUT", "/v1/chat/completions", auth, utf8(chat("")));
            if (who.equals("key")) {
                add.row("key, admin API", "POST", "/admin/keys", auth, utf8("{\"name\":\"x\"}"));
                add.row("key, admin models", "GET", "/admin/models", auth, null);
            }
        }

        // credentials that are not ones
        for (String bad : List.of("", "Bearer", "Bearer ", "Basic dXNlcjpwYXNz", "Bearer " + "k".repeat(8000), "Bearer sk-wrong",
                "Bearer a.b.c", "Bearer \u00e9\u00e9", "bearer  " + MASTER + "x")) {
            add.row("Authorization '" + (bad.length() > 30 ? bad.substring(0, 30) + "..." : bad) + "'", "POST",
                    "/v1/chat/completions", "raw:" + bad, utf8(chat("")));
            add.row("Authorization '" + (bad.length() > 30 ? bad.substring(0, 30) + "..." : bad) + "'", "GET", "/admin/keys",
                    "raw:" + bad, null);
        }

        // the admin API, with the master key
        for (Named<byte[]> b : malformed()) {
            add.row(b.getName(), "POST", "/admin/keys", MASTER, b.getPayload());
            add.row(b.getName(), "POST", "/admin/models/pull", MASTER, b.getPayload());
        }
        String[][] keyFields = {
            {"name", "42"}, {"name", "[]"}, {"name", "\"\""}, {"name", "\"" + LONG_NAME + "\""}, {"name", "{\"a\":1}"},
            {"models", "\"all\""}, {"models", "[1]"}, {"models", "[\"\"]"}, {"models", "[\"" + LONG_NAME + "\"]"},
            {"rpm", "\"10\""}, {"rpm", "-1"}, {"rpm", "1.5"}, {"rpm", "1e400"}, {"rpm", "99999999999999999999"},
            {"tpm", "[]"}, {"tpm", "0"}, {"max-concurrent", "-5"}, {"max-concurrent", "true"},
            {"max-budget-usd", "\"5\""}, {"max-budget-usd", "-1"}, {"max-budget-usd", "[1]"},
            {"expires-at", "\"tomorrow\""}, {"expires-at", "42"}, {"budget-period", "\"fortnight\""}, {"budget-period", "7"},
            {"surprise", "1"},
        };
        for (String[] f : keyFields) {
            String body = f[0].equals("name") ? "{\"name\":" + f[1] + "}" : "{\"name\":\"k\",\"" + f[0] + "\":" + f[1] + "}";
            add.row(f[0] + " = " + (f[1].length() > 30 ? f[1].substring(0, 30) + "..." : f[1]), "POST", "/admin/keys", MASTER, utf8(body));
        }
        String[] pulls = {"{}", "{\"repo\":42}", "{\"repo\":\"no-slash\"}", "{\"repo\":\"../../etc\"}", "{\"repo\":\"a/b\",\"revision\":\"\"}",
            "{\"repo\":\"a/b\",\"revision\":\"" + LONG_NAME + "\"}", "{\"repo\":\"a/b\",\"name\":\"../x\"}", "{\"repo\":\"a/b\",\"name\":\".hidden\"}",
            "{\"repo\":\"a/b\",\"include\":\"*.json\"}", "{\"repo\":\"a/b\",\"include\":[1]}", "{\"repo\":\"a/b\",\"bogus\":1}",
            "{\"repo\":\"" + "a".repeat(5000) + "/b\"}"};
        for (String body : pulls) {
            add.row(body.length() > 40 ? body.substring(0, 40) + "..." : body, "POST", "/admin/models/pull", MASTER, utf8(body));
        }
        add.row("revoke unknown key", "DELETE", "/admin/keys/key_nope", MASTER, null);
        add.row("revoke a 2000-character id", "DELETE", "/admin/keys/" + "k".repeat(2000), MASTER, null);
        for (String q : List.of("from=yesterday", "to=42", "group-by=color", "from=2030-01-01T00:00:00Z&to=2020-01-01T00:00:00Z",
                "from=" + "9".repeat(300))) {
            add.row(q.length() > 40 ? q.substring(0, 40) : q, "GET", "/admin/usage?" + q, MASTER, null);
        }
        add.row("pull status unknown", "GET", "/admin/models/pulls/pull-nope", MASTER, null);
        add.row("load unknown model", "POST", "/admin/models/no-such/load", MASTER, null);
        add.row("unload unknown model", "POST", "/admin/models/no-such/unload", MASTER, null);
        add.row("delete unknown model", "DELETE", "/admin/models/no-such", MASTER, null);
        add.row("unknown admin path", "GET", "/admin/" + "y".repeat(300), MASTER, null);
        add.row("wrong method", "PATCH", "/admin/keys", MASTER, utf8("{}"));
        return rows.stream();
    }

    @Order(1)
    @ParameterizedTest(name = "{0}")
    @MethodSource("corpus")
    void hostileRequestGetsA4xxInOpenAisShape(Row row) throws Exception {
        StringBuilder head = new StringBuilder(row.method() + " " + row.path() + " HTTP/1.1\r\nHost: 127.0.0.1\r\n");
        if (row.auth() != null && row.auth().startsWith("raw:")) {
            if (!row.auth().equals("raw:")) {
                head.append("Authorization: ").append(row.auth().substring(4)).append("\r\n");
            }
        } else if (row.auth() != null) {
            head.append("Authorization: Bearer ").append(row.auth()).append("\r\n");
        }
        byte[] body = row.body() == null ? new byte[0] : row.body();
        if (row.body() != null) {
            head.append("Content-Type: application/json\r\n");
        }
        head.append("Content-Length: ").append(body.length).append("\r\n\r\n");
        Response res = exchange(concat(head.toString().getBytes(StandardCharsets.UTF_8), body));
        assertTrue(res.status() >= 400 && res.status() < 500, res.status() + " " + res.body());
        assertErrorShape(res);
        assertEquals(200, exchange(utf8("GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")).status(), "still serving");
    }

    /** Broken below JSON, at the HTTP framing. */
    static Stream<Named<String>> rawCorpus() {
        String post = "POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " + MASTER + "\r\n";
        String body = chat("");
        List<Named<String>> rows = new ArrayList<>();
        rows.add(Named.of("Content-Length and chunked at once", post + "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n"
                + Integer.toHexString(body.length()) + "\r\n" + body + "\r\n0\r\n\r\n"));
        rows.add(Named.of("two Content-Lengths", post + "Content-Length: 5\r\nContent-Length: " + body.length() + "\r\n\r\n" + body));
        rows.add(Named.of("header without a colon", "GET /v1/models HTTP/1.1\r\nHost: 127.0.0.1\r\nno colon here\r\n\r\n"));
        rows.add(Named.of("header name with a space", "GET /v1/models HTTP/1.1\r\nHost: 127.0.0.1\r\nBad Name: x\r\n\r\n"));
        rows.add(Named.of("request line of 10000 characters", "GET /v1/models?" + "q".repeat(10_000) + " HTTP/1.1\r\nHost: x\r\n\r\n"));
        rows.add(Named.of("500 headers of 40 bytes", "GET /v1/models HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                + "X-Pad: 0123456789012345678901234567890\r\n".repeat(500) + "\r\n"));
        rows.add(Named.of("chunk size of 40 hex digits", post + "Transfer-Encoding: chunked\r\n\r\n" + "f".repeat(40) + "\r\n" + body));
        rows.add(Named.of("two Host headers", "GET /v1/models HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"));
        rows.add(Named.of("control characters in the path", "GET /v1/mo\u0001dels HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"));
        rows.add(Named.of("Expect 100-continue over the body limit", post + "Expect: 100-continue\r\nContent-Length: 99999999\r\n\r\n"));
        return rows.stream();
    }

    @Order(2)
    @ParameterizedTest(name = "{0}")
    @MethodSource("rawCorpus")
    void brokenHttpGetsA4xxInOpenAisShape(String request) throws Exception {
        Response res = exchange(request.getBytes(StandardCharsets.ISO_8859_1));
        assertTrue(res.status() >= 400 && res.status() < 500, res.status() + " " + res.body());
        assertErrorShape(res);
        assertEquals(200, exchange(utf8("GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")).status(), "still serving");
    }

    @Order(3)
    @Test
    void afterTheCorpusNothingIsHeldAndTheServerServes() throws Exception {
        Capacity idle = server.awaitIdle(Duration.ofSeconds(30));
        assertEquals(idle.totalSlots(), idle.freeSlots());
        String metrics = server.get("/metrics").body();
        assertEquals(idle.totalSlots(), metric(metrics, "gatehouse_engine_kv_free_slots"), "every KV slot free");
        assertEquals(1, metric(metrics, "gatehouse_http_in_flight"), "no request in flight but the scrape");
        assertEquals(0, metric(metrics, "gatehouse_policy_concurrency_held"), "no concurrency slot held");
        Response ok = exchange(concat(utf8("POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " + key
                + "\r\nContent-Type: application/json\r\nContent-Length: " + utf8(chat("")).length + "\r\n\r\n"), utf8(chat(""))));
        assertEquals(200, ok.status(), ok.body());
    }

    static double metric(String scrape, String name) {
        Matcher m = Pattern.compile("(?m)^" + Pattern.quote(name) + "(\\{[^}]*\\})? (\\S+)$").matcher(scrape);
        assertTrue(m.find(), name + " in /metrics");
        double total = Double.parseDouble(m.group(2));
        while (m.find()) {
            total += Double.parseDouble(m.group(2));
        }
        return total;
    }

    static void assertErrorShape(Response res) throws Exception {
        assertTrue(res.headers().toLowerCase(Locale.ROOT).contains("content-type: application/json"), res.headers());
        JsonNode root;
        try {
            root = JSON.readTree(res.body());
        } catch (Exception e) {
            fail("not JSON: " + res.body());
            return;
        }
        JsonNode error = root.get("error");
        assertTrue(error != null && error.isObject(), res.body());
        for (String field : List.of("message", "type", "param", "code")) {
            assertTrue(error.has(field), "error." + field + " present: " + res.body());
        }
        assertTrue(error.get("message").asText().length() < 1000, "short message: " + res.body());
        assertFalse(LEAK.matcher(res.body()).find(), "Java internals in the body: " + res.body());
    }

    record Response(int status, String headers, String body) {}

    /** Sends the bytes on a fresh connection and reads one response (status line, headers, Content-Length body). */
    static Response exchange(byte[] request) throws Exception {
        try (Socket socket = new Socket("127.0.0.1", server.port())) {
            socket.setSoTimeout(30_000);
            try {
                socket.getOutputStream().write(request);
                socket.getOutputStream().flush();
            } catch (java.io.IOException e) {
                // the server may answer and close before taking all of an oversized request: read its answer
            }
            var in = new DataInputStream(new BufferedInputStream(socket.getInputStream()));
            StringBuilder head = new StringBuilder();
            while (!head.toString().endsWith("\r\n\r\n")) {
                int b = in.read();
                if (b < 0) {
                    fail("connection closed before a full response; got: " + head);
                }
                head.append((char) b);
            }
            String headers = head.toString();
            var length = Pattern.compile("(?im)^content-length:\\s*(\\d+)").matcher(headers);
            byte[] entity = new byte[length.find() ? Integer.parseInt(length.group(1)) : 0];
            in.readFully(entity);
            return new Response(Integer.parseInt(headers.substring(9, 12)), headers, new String(entity, StandardCharsets.UTF_8));
        }
    }
}
