package dev.gatehouse.gateway.config;

import com.fasterxml.jackson.databind.JsonNode;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.util.X509CertUtils;

import java.net.URI;
import java.net.URISyntaxException;
import java.security.KeyFactory;
import java.security.NoSuchAlgorithmException;
import java.security.PublicKey;
import java.security.cert.X509Certificate;
import java.security.interfaces.ECPublicKey;
import java.security.spec.InvalidKeySpecException;
import java.security.spec.X509EncodedKeySpec;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * {@code auth.jwt}: bearer JWTs signed by an identity provider. The keys come from {@code jwks-url}
 * (fetched and cached) or are one static {@code public-key} (PEM); {@code issuer} and {@code audience}
 * are required so a token minted for another service is never accepted here.
 *
 * @param jwksUrl   the JWK set's URL, or null with a static key
 * @param publicKey the static key (RSA or EC), or null with a JWK set
 * @param userClaim the claim naming the user (default {@code sub}): the bucket for limits and usage
 * @param rpm       requests per minute per user, null = unlimited
 * @param tpm       tokens per minute per user, null = unlimited
 * @param maxConcurrent requests in flight per user, null = unlimited
 * @param models    the models JWT users may call; empty = every model
 */
public record JwtConfig(URI jwksUrl, PublicKey publicKey, String issuer, String audience, String userClaim,
                        Integer rpm, Integer tpm, Integer maxConcurrent, List<String> models) {

    public static final String DEFAULT_USER_CLAIM = "sub";

    private static final Pattern PEM_PUBLIC_KEY =
            Pattern.compile("-----BEGIN PUBLIC KEY-----([A-Za-z0-9+/=\\s]+)-----END PUBLIC KEY-----");

    /** True when the user may call {@code model}. */
    public boolean allows(String model) {
        return models.isEmpty() || models.contains(model);
    }

    static JwtConfig parse(JsonNode n, Map<String, String> env) {
        String where = "auth.jwt";
        GatehouseConfig.requireObject(n, where);
        GatehouseConfig.allowKeys(n, where, Set.of("jwks-url", "public-key", "issuer", "audience", "user-claim",
                "rpm", "tpm", "max-concurrent", "models"));
        if (n.has("jwks-url") == n.has("public-key")) {
            throw new ConfigException(where + ": set exactly one of 'jwks-url' (the identity provider's JWK set) "
                    + "or 'public-key' (a PEM public key)");
        }
        URI jwksUrl = null;
        PublicKey publicKey = null;
        if (n.has("jwks-url")) {
            jwksUrl = url(GatehouseConfig.expand(GatehouseConfig.text(n, "jwks-url", where), env, where + ".jwks-url"),
                    where + ".jwks-url");
        } else {
            publicKey = publicKey(GatehouseConfig.expand(GatehouseConfig.text(n, "public-key", where), env,
                    where + ".public-key"), where + ".public-key");
        }
        String issuer = GatehouseConfig.expand(GatehouseConfig.requiredText(n, "issuer", where), env, where + ".issuer");
        String audience = GatehouseConfig.expand(GatehouseConfig.requiredText(n, "audience", where), env,
                where + ".audience");
        String userClaim = n.has("user-claim") ? GatehouseConfig.text(n, "user-claim", where) : DEFAULT_USER_CLAIM;
        List<String> models = GatehouseConfig.modelNames(n, "models", where);
        return new JwtConfig(jwksUrl, publicKey, issuer, audience, userClaim, GatehouseConfig.positive(n, "rpm", where),
                GatehouseConfig.positive(n, "tpm", where), GatehouseConfig.positive(n, "max-concurrent", where),
                models);
    }

    private static URI url(String value, String where) {
        try {
            URI uri = new URI(value);
            if (("https".equals(uri.getScheme()) || "http".equals(uri.getScheme())) && uri.getHost() != null) {
                return uri;
            }
        } catch (URISyntaxException e) {
            // reported below
        }
        throw new ConfigException(where + " must be an http(s) URL, e.g. https://issuer.example.com/.well-known/jwks.json");
    }

    /** An RSA or EC key from a PEM {@code PUBLIC KEY} or {@code CERTIFICATE}. */
    private static PublicKey publicKey(String pem, String where) {
        PublicKey key;
        if (pem.contains(X509CertUtils.PEM_BEGIN_MARKER)) {
            X509Certificate cert = X509CertUtils.parse(pem);
            if (cert == null) {
                throw new ConfigException(where + ": the PEM certificate cannot be read");
            }
            key = cert.getPublicKey();
        } else {
            key = spkiKey(pem, where);
        }
        if (key instanceof ECPublicKey ec && Curve.forECParameterSpec(ec.getParams()) == null) {
            throw new ConfigException(where + ": the EC key's curve is not P-256, P-384 or P-521");
        }
        if (!(key instanceof ECPublicKey) && !"RSA".equals(key.getAlgorithm())) {
            throw new ConfigException(where + ": only RSA and EC keys are supported, not " + key.getAlgorithm());
        }
        return key;
    }

    private static PublicKey spkiKey(String pem, String where) {
        Matcher m = PEM_PUBLIC_KEY.matcher(pem);
        if (!m.find()) {
            throw new ConfigException(where + " must be a PEM public key ('-----BEGIN PUBLIC KEY-----' ...) "
                    + "or certificate ('-----BEGIN CERTIFICATE-----' ...)");
        }
        byte[] der;
        try {
            der = Base64.getMimeDecoder().decode(m.group(1).strip());
        } catch (IllegalArgumentException e) {
            throw new ConfigException(where + ": the PEM public key is not valid base64");
        }
        for (String algorithm : List.of("RSA", "EC")) {
            try {
                return KeyFactory.getInstance(algorithm).generatePublic(new X509EncodedKeySpec(der));
            } catch (InvalidKeySpecException e) {
                // not this algorithm: try the next
            } catch (NoSuchAlgorithmException e) {
                throw new IllegalStateException("every JDK has " + algorithm, e);
            }
        }
        throw new ConfigException(where + ": the PEM public key is neither an RSA nor an EC key");
    }
}
