package dev.gatehouse.gateway.auth;

import dev.gatehouse.gateway.chat.ApiException;
import dev.gatehouse.gateway.config.JwtConfig;
import dev.gatehouse.gateway.policy.ConcurrencyLimiter;
import dev.gatehouse.gateway.policy.InMemoryConcurrencyLimiter;
import dev.gatehouse.gateway.policy.RateLimiter;
import dev.gatehouse.gateway.store.KeyStore;
import io.helidon.http.HeaderName;
import io.helidon.http.HeaderNames;
import io.helidon.webserver.http.ServerRequest;

import java.security.MessageDigest;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;

/**
 * Who may call: the master key (everything, plus /admin), the virtual keys of the key store and,
 * with {@code auth.jwt}, users bearing a JWT. With none of these, /v1 stays open, which is why
 * {@code serve} then listens on loopback only.
 */
public final class ApiAuth {
    /**
     * The caller behind a request: {@code key} the virtual key, {@code user} the JWT's user; both null
     * for the master key or when auth is off. {@code jwt} is the JWT users' policy when {@code user} is set,
     * {@code claims} that JWT's claims (empty otherwise), for routing rules.
     */
    public record Caller(KeyStore.Key key, String user, JwtConfig jwt, Map<String, Object> claims) {
        static final Caller ANYONE = new Caller(null);

        public Caller(KeyStore.Key key) {
            this(key, null, null, Map.of());
        }

        static Caller jwtUser(JwtVerifier.Verified verified, JwtConfig jwt) {
            return new Caller(null, verified.user(), jwt, verified.claims());
        }

        /** Model not allowed for this key or JWT user → 403. */
        public void requireModel(String model) {
            if (model != null && !allows(model)) {
                throw new ApiException(403, "invalid_request_error", "model_not_allowed", "model",
                        (user != null ? "This user" : "This API key") + " may not use the model '" + model + "'.", null);
            }
        }

        public boolean allows(String model) {
            return key != null ? key.allows(model) : user == null || jwt.allows(model);
        }

        /** The rate limiter's bucket: the key's id or "jwt:" + user; null for the master key (unlimited). */
        public String limitId() {
            return key != null ? key.id() : user != null ? "jwt:" + user : null;
        }

        public Integer rpm() {
            return key != null ? key.spec().rpm() : user != null ? jwt.rpm() : null;
        }

        public Integer tpm() {
            return key != null ? key.spec().tpm() : user != null ? jwt.tpm() : null;
        }

        public Integer maxConcurrent() {
            return key != null ? key.spec().maxConcurrent() : user != null ? jwt.maxConcurrent() : null;
        }
    }

    private final byte[] masterHash;
    private final KeyStore keys;
    private final RateLimiter limiter;
    private final ConcurrencyLimiter concurrency;
    private final JwtVerifier jwt;
    private final AdminSessions sessions = new AdminSessions();

    /** {@code masterKey} and {@code keys} may each be null. */
    public ApiAuth(String masterKey, KeyStore keys) {
        this(masterKey, keys, RateLimiter.system());
    }

    /** With the rate limiter given, so tests can drive its clock. */
    public ApiAuth(String masterKey, KeyStore keys, RateLimiter limiter) {
        this(masterKey, keys, limiter, null);
    }

    /** {@code jwt} null when {@code auth.jwt} is not configured. */
    public ApiAuth(String masterKey, KeyStore keys, RateLimiter limiter, JwtVerifier jwt) {
        this(masterKey, keys, limiter, new InMemoryConcurrencyLimiter(), jwt);
    }

    /** With the limits' state given: this instance's own, or shared with others through Redis. */
    public ApiAuth(String masterKey, KeyStore keys, RateLimiter limiter, ConcurrencyLimiter concurrency, JwtVerifier jwt) {
        this.concurrency = concurrency;
        this.masterHash = masterKey == null || masterKey.isEmpty() ? null : KeyStore.sha256(masterKey);
        this.keys = keys;
        this.limiter = limiter;
        this.jwt = jwt;
    }

    public static ApiAuth none() {
        return new ApiAuth(null, null);
    }

    public KeyStore keys() {
        return keys;
    }

    /** The per-key rpm/tpm limits: they belong to the caller, so they live with who the caller is. */
    public RateLimiter limiter() {
        return limiter;
    }

    /** Each key's requests in flight. */
    public ConcurrencyLimiter concurrency() {
        return concurrency;
    }

    public boolean hasMasterKey() {
        return masterHash != null;
    }

    /** Checked per request, so a key added by {@code gatehouse keys create} turns auth on (within a second). */
    public boolean required() {
        return masterHash != null || jwt != null || (keys != null && !keys.isEmpty());
    }

    /** The caller of a /v1 request; 401 when a key is required and missing, unknown or expired. */
    public Caller authenticate(ServerRequest req) {
        return authenticate(bearer(req), "Send it as 'Authorization: Bearer <key>'.");
    }

    /** As {@link #authenticate(ServerRequest)}, the key also taken from {@code x-api-key}, as Anthropic's clients send it. */
    public Caller authenticateApiKeyHeader(ServerRequest req) {
        Optional<String> apiKey = req.headers().first(X_API_KEY).map(String::trim).filter(v -> !v.isEmpty());
        return authenticate(apiKey.or(() -> bearer(req)), "Send it as 'x-api-key: <key>' or 'Authorization: Bearer <key>'.");
    }

    private Caller authenticate(Optional<String> sent, String howToSend) {
        if (!required()) {
            return Caller.ANYONE;
        }
        String presented = sent.orElseThrow(() -> invalidKey("You didn't provide an API key. " + howToSend));
        if (isMaster(presented)) {
            return Caller.ANYONE;
        }
        if (jwt != null && JwtVerifier.looksLikeJwt(presented)) { // virtual keys have no dots: never a JWT
            return Caller.jwtUser(jwt.verify(presented), jwt.config());
        }
        KeyStore.Key key = (keys == null ? Optional.<KeyStore.Key>empty() : keys.find(presented))
                .orElseThrow(() -> invalidKey("Incorrect API key provided."));
        if (key.expired(Instant.now())) {
            throw invalidKey("This API key expired at " + key.spec().expiresAt() + ".");
        }
        return new Caller(key);
    }

    /** For /admin: only the master key; none configured means the admin API is closed. */
    public void requireMaster(ServerRequest req) {
        if (masterHash == null) {
            throw new ApiException(401, "invalid_request_error", "invalid_api_key", null,
                    "The admin API needs a master key: set GATEHOUSE_MASTER_KEY or auth.master-key.", null);
        }
        if (bearer(req).isEmpty() && sessions.of(req).isPresent()) { // the dashboard, signed in with the master key
            if (!sessions.admits(req)) {
                throw new ApiException(403, "invalid_request_error", "csrf_token_missing", null,
                        "A change from the dashboard needs its session's '" + AdminSessions.CSRF_HEADER + "' header.", null);
            }
            return;
        }
        if (!bearer(req).map(this::isMaster).orElse(false)) {
            throw invalidKey("The admin API needs the master key as 'Authorization: Bearer <key>'.");
        }
    }

    /** The dashboard's signed-in browsers, which act as the master key (see {@link #requireMaster}). */
    public AdminSessions sessions() {
        return sessions;
    }

    /** Whether {@code presented} is the master key. */
    public boolean isMaster(String presented) {
        // hashes have one length, so isEqual's time depends on neither the key's length nor its content
        return masterHash != null && MessageDigest.isEqual(masterHash, KeyStore.sha256(presented));
    }

    private static final HeaderName X_API_KEY = HeaderNames.create("x-api-key");

    private static Optional<String> bearer(ServerRequest req) {
        return req.headers().first(HeaderNames.AUTHORIZATION)
                .filter(v -> v.regionMatches(true, 0, "Bearer ", 0, 7))
                .map(v -> v.substring(7).trim())
                .filter(v -> !v.isEmpty());
    }

    private static ApiException invalidKey(String message) {
        return new ApiException(401, "invalid_request_error", "invalid_api_key", null, message, null);
    }
}
