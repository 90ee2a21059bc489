package dev.gatehouse.gateway.ui;

import dev.gatehouse.gateway.auth.AdminSessions;
import dev.gatehouse.gateway.auth.ApiAuth;
import io.helidon.http.HeaderNames;
import io.helidon.http.HeaderValues;
import io.helidon.http.Status;
import io.helidon.webserver.CloseConnectionException;
import io.helidon.webserver.http.HttpRules;
import io.helidon.webserver.http.HttpService;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Collectors;

/**
 * The admin dashboard at {@code /ui}: a sign-in form for the master key, then one page whose script
 * reads and changes everything through the admin API, signed in by the session cookie (see
 * {@link AdminSessions}). Its files are in the jar: nothing is fetched from elsewhere at run time.
 * Without a master key it only says how to set one, so it is never open.
 */
public final class Dashboard implements HttpService {
    /** The files under /ui/assets/, read once; any other name is a 404. */
    private static final Map<String, String> ASSETS = Map.of(
            "app.js", "text/javascript; charset=utf-8",
            "app.css", "text/css; charset=utf-8",
            "uPlot.iife.min.js", "text/javascript; charset=utf-8",
            "uPlot.min.css", "text/css; charset=utf-8");
    /** The sign-in form read at most: the master key, URL-encoded, with room to spare. */
    private static final int MAX_FORM_BYTES = 4096;
    /** Beyond this a refused form's sender may see its connection reset rather than the 413. */
    private static final long MAX_DISCARD_BYTES = 1 << 20;
    /** Scripts and styles from /ui/assets only; no framing, no referrer to other sites. */
    private static final String CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
            + "frame-ancestors 'none'; form-action 'self'; base-uri 'none'";

    private final ApiAuth auth;
    private final Map<String, byte[]> assets;
    private final String page;
    private final String login;

    public Dashboard(ApiAuth auth) {
        this.auth = auth;
        this.assets = ASSETS.keySet().stream().collect(Collectors.toMap(name -> name,
                name -> resource(name.startsWith("uPlot") ? "vendor/" + name : name)));
        this.page = new String(resource("index.html"), StandardCharsets.UTF_8);
        this.login = new String(resource("login.html"), StandardCharsets.UTF_8);
    }

    private static byte[] resource(String name) {
        try (InputStream in = Dashboard.class.getResourceAsStream("/ui/" + name)) {
            if (in == null) {
                throw new IllegalStateException("the jar has no /ui/" + name);
            }
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public void routing(HttpRules rules) {
        rules.get("/", this::page)
                .post("/login", this::login)
                .post("/logout", this::logout)
                .get("/assets/{name}", this::asset);
    }

    private void page(ServerRequest req, ServerResponse res) {
        Optional<AdminSessions.Session> session = auth.sessions().of(req);
        if (session.isEmpty()) {
            html(res, Status.OK_200, loginPage(null));
            return;
        }
        html(res, Status.OK_200, page.replace("{{csrf}}", session.get().csrf()));
    }

    private String loginPage(String message) {
        String text = !auth.hasMasterKey()
                ? "The dashboard needs a master key: start Gatehouse with GATEHOUSE_MASTER_KEY set."
                : message == null ? "" : message;
        return login.replace("{{message}}", text).replace("{{disabled}}", auth.hasMasterKey() ? "" : "disabled");
    }

    private void login(ServerRequest req, ServerResponse res) {
        String form;
        try {
            form = req.content().hasEntity() ? loginForm(req) : "";
        } catch (IOException | RuntimeException e) { // badly framed, cut short: the client's doing
            form = "";
        }
        if (form == null) { // read before any key is known: never more than a form with a key holds
            res.header(HeaderValues.CONNECTION_CLOSE); // the rest of the body, past what was discarded, stays unread
            html(res, Status.REQUEST_ENTITY_TOO_LARGE_413, loginPage("That form is too large."));
            throw new CloseConnectionException("login form over " + MAX_FORM_BYTES + " bytes");
        }
        String key = formField(form, "key");
        if (!auth.hasMasterKey() || key == null || !auth.isMaster(key)) {
            html(res, Status.UNAUTHORIZED_401, loginPage("That is not the master key.")); // counted by AuthFailures
            return;
        }
        AdminSessions.Session session = auth.sessions().start();
        res.header(HeaderNames.SET_COOKIE, AdminSessions.cookie(session, overTls(req)));
        res.header(HeaderNames.LOCATION, "/ui/");
        res.status(Status.SEE_OTHER_303).send();
    }

    private void logout(ServerRequest req, ServerResponse res) {
        Optional<AdminSessions.Session> session = auth.sessions().of(req);
        if (session.isPresent() && AdminSessions.csrfMatches(session.get(), req)) {
            auth.sessions().end(session.get());
        }
        res.header(HeaderNames.SET_COOKIE, AdminSessions.expiredCookie());
        res.status(Status.NO_CONTENT_204).send();
    }

    private void asset(ServerRequest req, ServerResponse res) {
        String name = req.path().pathParameters().get("name");
        byte[] body = assets.get(name);
        if (body == null) {
            res.status(Status.NOT_FOUND_404).send();
            return;
        }
        res.header(HeaderNames.CONTENT_TYPE, ASSETS.get(name));
        res.header(HeaderNames.CACHE_CONTROL, "no-cache"); // revalidated, so a new jar's files show at once
        res.header(HeaderValues.create("X-Content-Type-Options", "nosniff"));
        res.send(body);
    }

    private static void html(ServerResponse res, Status status, String body) {
        res.status(status);
        res.header(HeaderNames.CONTENT_TYPE, "text/html; charset=utf-8");
        res.header(HeaderNames.CACHE_CONTROL, "no-store");
        res.header(HeaderValues.create("Content-Security-Policy", CSP));
        res.header(HeaderValues.create("X-Frame-Options", "DENY"));
        res.header(HeaderValues.create("Referrer-Policy", "no-referrer"));
        res.send(body.getBytes(StandardCharsets.UTF_8));
    }

    /** The sign-in form's text, or null when it is longer than {@link #MAX_FORM_BYTES}. */
    private static String loginForm(ServerRequest req) throws IOException {
        InputStream in = req.content().inputStream();
        if (req.headers().contentLength().orElse(0) > MAX_FORM_BYTES) {
            discard(in);
            return null;
        }
        byte[] bytes = in.readNBytes(MAX_FORM_BYTES + 1);
        if (bytes.length > MAX_FORM_BYTES) {
            discard(in);
            return null;
        }
        in.close(); // at its end already: marks the body read
        return new String(bytes, StandardCharsets.UTF_8);
    }

    /**
     * Reads and drops what the client still sends of a refused form, up to {@link #MAX_DISCARD_BYTES}: a
     * connection closed with unread data is reset, and the reset can reach the client before our 413 does.
     */
    private static void discard(InputStream in) {
        byte[] sink = new byte[8192];
        try {
            for (long left = MAX_DISCARD_BYTES; left > 0; ) {
                int n = in.read(sink, 0, (int) Math.min(sink.length, left));
                if (n < 0) {
                    return;
                }
                left -= n;
            }
        } catch (IOException | RuntimeException e) {
            // the client went away or framed its body badly: nothing left to protect
        }
    }

    /** The browser reached us over TLS, directly or through a proxy that says so. */
    private static boolean overTls(ServerRequest req) {
        return req.isSecure() || req.headers().first(HeaderNames.X_FORWARDED_PROTO).map("https"::equalsIgnoreCase).orElse(false);
    }

    /** One field of an application/x-www-form-urlencoded body; null when absent or malformed. */
    static String formField(String body, String name) {
        for (String pair : body.split("&", 16)) {
            int eq = pair.indexOf('=');
            if (eq > 0 && pair.substring(0, eq).equals(name)) {
                try {
                    return URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8);
                } catch (IllegalArgumentException e) {
                    return null;
                }
            }
        }
        return null;
    }
}
