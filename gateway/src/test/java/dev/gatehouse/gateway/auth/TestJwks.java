package dev.gatehouse.gateway.auth;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.RSASSASigner;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jose.jwk.gen.RSAKeyGenerator;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import com.sun.net.httpserver.HttpServer;
import dev.gatehouse.gateway.config.JwtConfig;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A test identity provider: one RSA key (kid "k1") whose public JWK set is served on a free port of
 * 127.0.0.1, and tokens signed by it (or by any other key) for {@link #ISSUER} and {@link #AUDIENCE}.
 */
public final class TestJwks implements AutoCloseable {
    public static final String ISSUER = "https://idp.test.example";
    public static final String AUDIENCE = "gatehouse";

    private final RSAKey key = newKey("k1");
    private final AtomicInteger fetches = new AtomicInteger();
    private final HttpServer http;

    private TestJwks() throws IOException {
        http = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        byte[] body = new JWKSet(key).toPublicJWKSet().toString().getBytes(StandardCharsets.UTF_8);
        http.createContext("/.well-known/jwks.json", exchange -> {
            fetches.incrementAndGet();
            exchange.getResponseHeaders().set("Content-Type", "application/json");
            exchange.sendResponseHeaders(200, body.length);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(body);
            }
        });
        http.start();
    }

    public static TestJwks start() throws IOException {
        return new TestJwks();
    }

    public static RSAKey newKey(String kid) {
        try {
            return new RSAKeyGenerator(2048).keyID(kid).generate();
        } catch (JOSEException e) {
            throw new IllegalStateException(e);
        }
    }

    public URI url() {
        return URI.create("http://127.0.0.1:" + http.getAddress().getPort() + "/.well-known/jwks.json");
    }

    /** How many times the JWK set was fetched. */
    public int fetches() {
        return fetches.get();
    }

    public RSAKey key() {
        return key;
    }

    /** {@code auth.jwt} for this provider's JWK set. */
    public JwtConfig config(Integer rpm, Integer tpm, List<String> models) {
        return new JwtConfig(url(), null, ISSUER, AUDIENCE, JwtConfig.DEFAULT_USER_CLAIM, rpm, tpm, null, models);
    }

    /** Claims a valid token has: this issuer and audience, the user as sub, 5 minutes to live. */
    public static JWTClaimsSet.Builder claims(String user) {
        Instant now = Instant.now();
        return new JWTClaimsSet.Builder().issuer(ISSUER).audience(AUDIENCE).subject(user)
                .issueTime(Date.from(now)).expirationTime(Date.from(now.plus(Duration.ofMinutes(5))));
    }

    /** A valid token for {@code user}. */
    public String token(String user) {
        return sign(key, claims(user).build());
    }

    public String sign(JWTClaimsSet claims) {
        return sign(key, claims);
    }

    public static String sign(RSAKey signer, JWTClaimsSet claims) {
        SignedJWT jwt = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.RS256).keyID(signer.getKeyID())
                .type(JOSEObjectType.JWT).build(), claims);
        try {
            jwt.sign(new RSASSASigner(signer));
        } catch (JOSEException e) {
            throw new IllegalStateException(e);
        }
        return jwt.serialize();
    }

    @Override
    public void close() {
        http.stop(0);
    }
}
