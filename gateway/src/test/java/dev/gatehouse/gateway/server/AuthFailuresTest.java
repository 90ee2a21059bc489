package dev.gatehouse.gateway.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gatehouse.gateway.api.openai.TestServer;
import dev.gatehouse.gateway.auth.ApiAuth;
import dev.gatehouse.gateway.config.ServerLimits;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** 401 and 403 answers are rate-limited per client address: a bad key cannot make the server work for ever. */
class AuthFailuresTest {
    static final String MASTER = "sk-master-auth-failures-test-0123456789";
    static final int PER_MINUTE = 12;

    @TempDir
    static Path dir;
    static TestServer server;

    @BeforeAll
    static void start() throws Exception {
        ServerLimits limits = new ServerLimits(ServerLimits.DEFAULTS.idleTimeout(), ServerLimits.DEFAULTS.headerTimeout(),
                ServerLimits.DEFAULTS.bodyTimeout(), ServerLimits.DEFAULTS.writeTimeout(), 64, 64, PER_MINUTE);
        server = TestServer.start(dir, (builder, registry) -> builder.auth(new ApiAuth(MASTER, null)).limits(limits));
    }

    @AfterAll
    static void stop() {
        if (server != null) {
            server.close();
        }
    }

    @Test
    void pastTheLimitAnAddressGets429UntilTheBucketRefills() throws Exception {
        String chat = "{\"model\":\"" + TestServer.MODEL + "\",\"messages\":[{\"role\":\"user\",\"content\":\"t5\"}],\"max_tokens\":1}";
        for (int i = 0; i < 2 * PER_MINUTE; i++) { // answers that are not 401/403 never count
            assertEquals(200, server.send("POST", "/v1/chat/completions", chat, MASTER).statusCode());
        }
        for (int i = 0; i < PER_MINUTE; i++) {
            HttpResponse<String> r = server.send("POST", "/v1/chat/completions", chat, "sk-guess-" + i);
            assertEquals(401, r.statusCode(), r.body());
        }
        HttpResponse<String> admin = server.send("GET", "/admin/keys", null, "sk-guess");
        assertEquals(429, admin.statusCode(), "the admin API too: " + admin.body());
        assertTrue(admin.body().contains("\"code\":\"rate_limit_exceeded\""), admin.body());
        int retryAfter = Integer.parseInt(admin.headers().firstValue("Retry-After").orElseThrow());
        assertTrue(retryAfter >= 1 && retryAfter <= 60 / PER_MINUTE, "Retry-After " + retryAfter);
        // refused before any key is looked at: the right key waits too (behind one NAT, one bucket)
        assertEquals(429, server.send("POST", "/v1/chat/completions", chat, MASTER).statusCode());
        Thread.sleep(retryAfter * 1000L + 200);
        HttpResponse<String> ok = server.send("POST", "/v1/chat/completions", chat, MASTER);
        assertEquals(200, ok.statusCode(), ok.body());
    }
}
