package dev.gatehouse.gateway.auth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.ECDSASigner;
import com.nimbusds.jose.crypto.MACSigner;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jose.jwk.gen.ECKeyGenerator;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.PlainJWT;
import com.nimbusds.jwt.SignedJWT;
import dev.gatehouse.gateway.chat.ApiException;
import dev.gatehouse.gateway.config.GatehouseConfig;
import dev.gatehouse.gateway.config.JwtConfig;
import java.security.PublicKey;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.Date;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Which tokens pass: signature, expiry, audience, issuer, algorithm, against a JWK set on loopback or a static key. */
class JwtVerifierTest {
    static TestJwks idp;
    static JwtVerifier verifier;

    @BeforeAll
    static void start() throws Exception {
        idp = TestJwks.start();
        verifier = JwtVerifier.of(idp.config(null, null, List.of()));
    }

    @AfterAll
    static void stop() {
        if (idp != null) {
            idp.close();
        }
    }

    /** The 401 a token gets; its message never repeats the token. */
    private static String refusal(JwtVerifier v, String token) {
        ApiException e = assertThrows(ApiException.class, () -> v.verify(token));
        assertEquals(401, e.status());
        assertEquals("invalid_api_key", e.code());
        assertFalse(e.getMessage().contains(token), e.getMessage());
        assertFalse(e.getMessage().contains(token.substring(token.lastIndexOf('.') + 1)), "no signature in the message");
        return e.getMessage();
    }

    private static Date ago(Duration d) {
        return Date.from(Instant.now().minus(d));
    }

    @Test
    void aValidTokenNamesItsUserAndTheKeySetIsFetchedOnce() {
        int before = idp.fetches();
        assertEquals("alice", verifier.verify(idp.token("alice")).user());
        assertEquals("bob", verifier.verify(idp.token("bob")).user());
        assertEquals("alice", verifier.verify(idp.sign(TestJwks.claims("alice").audience(List.of("other", "gatehouse")).build())).user(),
                "one of several audiences is enough");
        assertTrue(idp.fetches() - before <= 1, "cached: " + (idp.fetches() - before) + " fetches");
    }

    @Test
    void anExpiredTokenIsRefusedBeyondTheClockSkew() {
        assertEquals("The JWT has expired.", refusal(verifier, idp.sign(TestJwks.claims("alice")
                .expirationTime(ago(Duration.ofMinutes(2))).build())));
        assertEquals("alice", verifier.verify(idp.sign(TestJwks.claims("alice")
                .expirationTime(ago(Duration.ofSeconds(20))).build())).user(), "20 s is within the skew");
        assertTrue(refusal(verifier, idp.sign(TestJwks.claims("alice")
                .notBeforeTime(Date.from(Instant.now().plus(Duration.ofMinutes(5)))).build())).contains("before use time"));
    }

    @Test
    void wrongAudienceOrIssuerIsRefused() {
        assertEquals("Invalid JWT: JWT aud claim rejected.",
                refusal(verifier, idp.sign(TestJwks.claims("alice").audience("another-service").build())));
        assertEquals("Invalid JWT: JWT iss claim value rejected.",
                refusal(verifier, idp.sign(TestJwks.claims("alice").issuer("https://evil.example").build())));
    }

    @Test
    void aTokenSignedByAnotherKeyIsRefused() {
        RSAKey forger = TestJwks.newKey("k1"); // same kid as the real key
        assertEquals("Invalid JWT: Signed JWT rejected: Invalid signature.",
                refusal(verifier, TestJwks.sign(forger, TestJwks.claims("alice").build())));
        assertTrue(refusal(verifier, TestJwks.sign(TestJwks.newKey("unknown-kid"), TestJwks.claims("alice").build()))
                .contains("no matching key"));
    }

    @Test
    void hmacUnsignedAndMalformedTokensAreRefused() throws Exception {
        SignedJWT hmac = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.HS256).keyID("k1").build(),
                TestJwks.claims("alice").build());
        hmac.sign(new MACSigner(new byte[32]));
        assertTrue(refusal(verifier, hmac.serialize()).startsWith("Invalid JWT:"));

        assertFalse(JwtVerifier.looksLikeJwt(new PlainJWT(TestJwks.claims("alice").build()).serialize()),
                "alg none is no JWT here: it is looked up as an API key and fails as one");
        assertFalse(JwtVerifier.looksLikeJwt("gh-0123abcd"));
        assertEquals("The bearer token is not a well-formed JWT.", refusal(verifier, "abc.def.ghi"));
    }

    @Test
    void requiredClaimsAndTheUserClaim() {
        JWTClaimsSet noExp = new JWTClaimsSet.Builder(TestJwks.claims("alice").build()).expirationTime(null).build();
        assertTrue(refusal(verifier, idp.sign(noExp)).contains("exp"));
        JWTClaimsSet noSub = new JWTClaimsSet.Builder(TestJwks.claims("alice").build()).subject(null).build();
        assertTrue(refusal(verifier, idp.sign(noSub)).contains("sub"));

        JwtConfig byEmail = new JwtConfig(idp.url(), null, TestJwks.ISSUER, TestJwks.AUDIENCE, "email", null, null, null, List.of());
        JwtVerifier v = JwtVerifier.of(byEmail);
        assertEquals("alice@example.com", v.verify(idp.sign(TestJwks.claims("alice").claim("email", "alice@example.com").build())).user());
        assertTrue(refusal(v, idp.sign(TestJwks.claims("alice").claim("email", 42).build())).contains("'email' claim"));
    }

    @Test
    void anUnreachableKeySetIs503NotTheCallersFault() throws Exception {
        TestJwks gone = TestJwks.start();
        gone.close();
        JwtVerifier v = JwtVerifier.of(gone.config(null, null, List.of()));
        ApiException e = assertThrows(ApiException.class, () -> v.verify(gone.token("alice")));
        assertEquals(503, e.status());
        assertEquals("jwks_unavailable", e.code());
    }

    @Test
    void aStaticRsaPublicKeyFromPem() {
        JwtVerifier v = JwtVerifier.of(GatehouseConfig.parse("auth:\n  jwt:\n    public-key: |\n"
                + pem(rsaPublic(idp.key())).indent(6) + "    issuer: " + TestJwks.ISSUER + "\n    audience: gatehouse\n",
                Map.of()).jwt());
        assertEquals("alice", v.verify(idp.token("alice")).user());
        assertEquals("Invalid JWT: Signed JWT rejected: Invalid signature.",
                refusal(v, TestJwks.sign(TestJwks.newKey("other"), TestJwks.claims("alice").build())));
        assertEquals("The JWT has expired.", refusal(v, idp.sign(TestJwks.claims("alice")
                .expirationTime(ago(Duration.ofMinutes(2))).build())));
    }

    @Test
    void aStaticEcPublicKeyFromPem() throws Exception {
        ECKey ec = new ECKeyGenerator(Curve.P_256).generate();
        JwtVerifier v = JwtVerifier.of(GatehouseConfig.parse("auth: {jwt: {public-key: \"" + pem(ec.toPublicKey()).replace("\n", "\\n")
                + "\", issuer: " + TestJwks.ISSUER + ", audience: gatehouse}}", Map.of()).jwt());
        SignedJWT jwt = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.ES256).build(), TestJwks.claims("carol").build());
        jwt.sign(new ECDSASigner(ec));
        assertEquals("carol", v.verify(jwt.serialize()).user());
        assertTrue(refusal(v, idp.token("alice")).startsWith("Invalid JWT:"), "an RSA token against an EC key");
    }

    static PublicKey rsaPublic(RSAKey key) {
        try {
            return key.toPublicKey();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    static String pem(PublicKey key) {
        return "-----BEGIN PUBLIC KEY-----\n" + Base64.getMimeEncoder(64, "\n".getBytes()).encodeToString(key.getEncoded())
                + "\n-----END PUBLIC KEY-----\n";
    }
}
