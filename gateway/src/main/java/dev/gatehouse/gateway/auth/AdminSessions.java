package dev.gatehouse.gateway.auth;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import io.helidon.http.HeaderNames;
import io.helidon.http.Method;
import io.helidon.webserver.http.ServerRequest;

import java.security.MessageDigest;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.Base64;
import java.util.Optional;

/**
 * The dashboard's signed-in browsers: a random session id in an HttpOnly, SameSite=Strict cookie, and a
 * second random token the page sends back in {@code x-csrf-token} on every change. Sessions live in
 * memory (a restart signs everyone out), expire after {@link #LIFETIME} and are bounded in number.
 */
public final class AdminSessions {
    public static final String COOKIE = "gatehouse_session";
    public static final String CSRF_HEADER = "x-csrf-token";
    static final Duration LIFETIME = Duration.ofHours(8);
    private static final SecureRandom RANDOM = new SecureRandom();

    /** A signed-in browser: {@code csrf} is the token its changes must carry. */
    public record Session(String id, String csrf) {}

    private final Cache<String, Session> sessions = Caffeine.newBuilder().expireAfterWrite(LIFETIME)
            .maximumSize(10_000).build();

    /** Starts a session (call only after the master key was checked). */
    public Session start() {
        Session s = new Session(randomToken(), randomToken());
        sessions.put(s.id(), s);
        return s;
    }

    public void end(Session session) {
        sessions.invalidate(session.id());
    }

    /** The session of the request's cookie, if it is one of ours and has not expired. */
    public Optional<Session> of(ServerRequest req) {
        return req.headers().cookies().first(COOKIE).map(sessions::getIfPresent);
    }

    /**
     * Whether the request may act as the master key through its session: a live session, and for anything
     * but a read, the session's CSRF token in {@link #CSRF_HEADER} (a form on another site cannot set it).
     */
    boolean admits(ServerRequest req) {
        Optional<Session> session = of(req);
        if (session.isEmpty()) {
            return false;
        }
        Method method = req.prologue().method();
        return method == Method.GET || method == Method.HEAD || csrfMatches(session.get(), req);
    }

    /** Whether the request carries the session's CSRF token (compared in constant time). */
    public static boolean csrfMatches(Session session, ServerRequest req) {
        return req.headers().first(HeaderNames.create(CSRF_HEADER))
                .map(sent -> MessageDigest.isEqual(sent.getBytes(), session.csrf().getBytes())).orElse(false);
    }

    /** The Set-Cookie value of {@code session}; Secure when the browser reached us over TLS. */
    public static String cookie(Session session, boolean secure) {
        return COOKIE + "=" + session.id() + "; Path=/; HttpOnly; SameSite=Strict; Max-Age=" + LIFETIME.toSeconds()
                + (secure ? "; Secure" : "");
    }

    /** The Set-Cookie value that removes the session cookie. */
    public static String expiredCookie() {
        return COOKIE + "=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0";
    }

    private static String randomToken() {
        byte[] bytes = new byte[32];
        RANDOM.nextBytes(bytes);
        return Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
    }
}
