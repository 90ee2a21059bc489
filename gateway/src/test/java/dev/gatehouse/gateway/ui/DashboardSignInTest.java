package dev.gatehouse.gateway.ui;

import dev.gatehouse.gateway.api.openai.TestServer;
import dev.gatehouse.gateway.auth.ApiAuth;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The dashboard's sign-in against hostile forms and cookies, without a browser: clear answers, nothing read unbounded. */
class DashboardSignInTest {
    private static final String MASTER = "master-secret-key";
    private static final HttpClient HTTP = HttpClient.newHttpClient();

    @TempDir
    static Path dir;
    static TestServer server;

    @BeforeAll
    static void start() throws Exception {
        server = TestServer.start(dir, (s, registry) -> s.auth(new ApiAuth(MASTER, null)));
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    private static HttpResponse<String> login(HttpRequest.BodyPublisher body) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(URI.create(server.url() + "/ui/login"))
                .header("Content-Type", "application/x-www-form-urlencoded").POST(body).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void theRightKeySignsInWithARestrictedCookie() throws Exception {
        HttpResponse<String> r = login(HttpRequest.BodyPublishers.ofString("key=" + MASTER));

        assertEquals(303, r.statusCode());
        String cookie = r.headers().firstValue("Set-Cookie").orElseThrow();
        assertTrue(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"), cookie);
    }

    @Test
    void malformedFormsAreWrongKeysNotErrors() throws Exception {
        for (String form : new String[] {"key=%ZZ", "key", "=", "&&&&", "key=" + MASTER.substring(1), ""}) {
            HttpResponse<String> r = login(HttpRequest.BodyPublishers.ofString(form));
            assertEquals(401, r.statusCode(), form);
            assertTrue(r.body().contains("That is not the master key."), form);
            assertFalse(r.headers().firstValue("Set-Cookie").isPresent(), form);
        }
    }

    @Test
    void aFormLargerThanAKeyIsRefusedBeforeItIsRead() throws Exception {
        HttpResponse<String> declared = login(HttpRequest.BodyPublishers.ofString("key=" + "a".repeat(64 * 1024)));
        HttpResponse<String> chunked = login(HttpRequest.BodyPublishers.ofInputStream(
                () -> new java.io.ByteArrayInputStream(("key=" + "a".repeat(64 * 1024)).getBytes())));

        assertEquals(413, declared.statusCode());
        assertEquals(413, chunked.statusCode());
        assertEquals(200, server.get("/health").statusCode(), "the server serves on");
    }

    @Test
    void anUnknownOrForgedSessionCookieGetsTheSignInPage() throws Exception {
        for (String cookie : new String[] {"gatehouse_session=forged", "gatehouse_session=", "gatehouse_session=" + "x".repeat(4000)}) {
            HttpResponse<String> page = HTTP.send(HttpRequest.newBuilder(URI.create(server.url() + "/ui/"))
                    .header("Cookie", cookie).build(), HttpResponse.BodyHandlers.ofString());
            HttpResponse<String> admin = HTTP.send(HttpRequest.newBuilder(URI.create(server.url() + "/admin/traffic"))
                    .header("Cookie", cookie).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(200, page.statusCode(), cookie);
            assertTrue(page.body().contains("name=\"key\""), "the sign-in form");
            assertEquals(401, admin.statusCode(), cookie);
        }
    }
}
