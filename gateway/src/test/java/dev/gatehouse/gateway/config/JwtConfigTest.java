package dev.gatehouse.gateway.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.security.KeyPairGenerator;
import java.security.PublicKey;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** {@code auth.jwt} in gatehouse.yaml: what it reads, its defaults, and the errors that name the culprit. */
class JwtConfigTest {
    private static final String JWKS = """
            auth:
              jwt:
                jwks-url: https://idp.example.com/.well-known/jwks.json
                issuer: https://idp.example.com/
                audience: gatehouse
            """;

    private static String error(String yaml) {
        return assertThrows(ConfigException.class, () -> GatehouseConfig.parse(yaml, Map.of())).getMessage();
    }

    private static String pem(PublicKey key) {
        return "-----BEGIN PUBLIC KEY-----\n" + Base64.getMimeEncoder(64, "\n".getBytes()).encodeToString(key.getEncoded())
                + "\n-----END PUBLIC KEY-----\n";
    }

    private static String withPublicKey(String pem) {
        return "auth:\n  jwt:\n    public-key: |\n" + pem.indent(6) + "    issuer: i\n    audience: a\n";
    }

    @Test
    void aJwkSetWithDefaults() {
        JwtConfig jwt = GatehouseConfig.parse(JWKS, Map.of()).jwt();
        assertEquals(URI.create("https://idp.example.com/.well-known/jwks.json"), jwt.jwksUrl());
        assertNull(jwt.publicKey());
        assertEquals("https://idp.example.com/", jwt.issuer());
        assertEquals("gatehouse", jwt.audience());
        assertEquals("sub", jwt.userClaim());
        assertNull(jwt.rpm());
        assertNull(jwt.tpm());
        assertNull(jwt.maxConcurrent());
        assertEquals(List.of(), jwt.models());
        assertTrue(jwt.allows("any-model"));
        assertNull(GatehouseConfig.parse("auth: {master-key: m}", Map.of()).jwt(), "no auth.jwt, no JWTs");
    }

    @Test
    void everyOptionAndVariablesFromTheEnvironment() {
        JwtConfig jwt = GatehouseConfig.parse("""
                auth:
                  master-key: m
                  jwt: {jwks-url: "${IDP}/jwks", issuer: "${IDP}", audience: api://gatehouse, user-claim: email,
                        rpm: 60, tpm: 100000, max-concurrent: 3, models: [chat, tiny-llama]}
                """, Map.of("IDP", "https://login.example.org")).jwt();
        assertEquals(URI.create("https://login.example.org/jwks"), jwt.jwksUrl());
        assertEquals("https://login.example.org", jwt.issuer());
        assertEquals("api://gatehouse", jwt.audience());
        assertEquals("email", jwt.userClaim());
        assertEquals(60, jwt.rpm());
        assertEquals(100000, jwt.tpm());
        assertEquals(3, jwt.maxConcurrent());
        assertTrue(jwt.allows("chat"));
        assertTrue(!jwt.allows("gpt-4o"));
    }

    @Test
    void aStaticPemPublicKey() throws Exception {
        for (String algorithm : List.of("RSA", "EC")) {
            PublicKey key = KeyPairGenerator.getInstance(algorithm).generateKeyPair().getPublic();
            JwtConfig jwt = GatehouseConfig.parse(withPublicKey(pem(key)), Map.of()).jwt();
            assertEquals(key, jwt.publicKey());
            assertNull(jwt.jwksUrl());
        }
    }

    @Test
    void mistakesAreNamed() throws Exception {
        String both = error(JWKS + "    public-key: x\n");
        assertTrue(both.contains("auth.jwt: set exactly one of 'jwks-url'") && both.contains("'public-key'"), both);
        assertTrue(error("auth: {jwt: {issuer: i, audience: a}}").contains("exactly one of"));
        assertEquals("auth.jwt: 'issuer' is required", error("auth: {jwt: {jwks-url: 'https://x/jwks', audience: a}}"));
        assertEquals("auth.jwt: 'audience' is required", error("auth: {jwt: {jwks-url: 'https://x/jwks', issuer: i}}"));
        assertTrue(error(JWKS + "    audiences: [a]\n").startsWith("auth.jwt: unknown key 'audiences'"));
        assertTrue(error("auth: {jwt: {jwks-url: 'ftp://x/jwks', issuer: i, audience: a}}")
                .startsWith("auth.jwt.jwks-url must be an http(s) URL"));
        assertTrue(error("auth: {jwt: {jwks-url: '${NOPE}', issuer: i, audience: a}}").contains("NOPE, which is not set"));
        assertEquals("auth.jwt.rpm must be a whole number >= 1", error(JWKS + "    rpm: 0\n"));
        assertEquals("auth.jwt.tpm must be a whole number >= 1", error(JWKS + "    tpm: lots\n"));
        assertEquals("auth.jwt.models must be a list of model names", error(JWKS + "    models: chat\n"));
        assertTrue(error(withPublicKey("not a key")).startsWith("auth.jwt.public-key must be a PEM public key"));
        assertEquals("auth.jwt.public-key: the PEM public key is neither an RSA nor an EC key",
                error(withPublicKey("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----")));
        PublicKey dsa = KeyPairGenerator.getInstance("DSA").generateKeyPair().getPublic();
        assertTrue(error(withPublicKey(pem(dsa))).contains("neither an RSA nor an EC key"));
        assertEquals("auth.jwt must be a mapping", error("auth: {jwt: yes}"));
    }
}
