package dev.gatehouse.gateway.auth;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.jwk.source.JWKSetUnavailableException;
import com.nimbusds.jose.jwk.source.JWKSource;
import com.nimbusds.jose.jwk.source.JWKSourceBuilder;
import com.nimbusds.jose.jwk.source.RateLimitReachedException;
import com.nimbusds.jose.proc.BadJOSEException;
import com.nimbusds.jose.proc.DefaultJOSEObjectTypeVerifier;
import com.nimbusds.jose.proc.JWSKeySelector;
import com.nimbusds.jose.proc.JWSVerificationKeySelector;
import com.nimbusds.jose.proc.SecurityContext;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.proc.DefaultJWTClaimsVerifier;
import com.nimbusds.jwt.proc.DefaultJWTProcessor;
import com.nimbusds.jwt.proc.ExpiredJWTException;
import dev.gatehouse.gateway.chat.ApiException;
import dev.gatehouse.gateway.chat.Identifiers;
import dev.gatehouse.gateway.config.JwtConfig;

import java.net.MalformedURLException;
import java.security.PublicKey;
import java.security.interfaces.ECPublicKey;
import java.text.ParseException;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Verifies bearer JWTs with nimbus-jose-jwt: signature (RSA or EC, never HMAC or {@code none}),
 * {@code exp} (required) and {@code nbf} with {@link #CLOCK_SKEW_SECONDS} of skew, {@code iss} and
 * {@code aud}. A JWK set is fetched on first use and cached by nimbus' {@link JWKSourceBuilder}
 * (time to live, refresh ahead, one retry, refetches for an unknown {@code kid} rate-limited).
 * Messages name what failed, never the token.
 */
public final class JwtVerifier {
    private static final Logger LOG = Logger.getLogger(JwtVerifier.class.getName());

    /** How far clocks of the identity provider and Gatehouse may disagree on exp and nbf. */
    public static final int CLOCK_SKEW_SECONDS = 60;

    /** Plain JWTs and OAuth access tokens (RFC 9068); a token without typ is accepted too. */
    private static final DefaultJOSEObjectTypeVerifier<SecurityContext> TYPES = new DefaultJOSEObjectTypeVerifier<>(
            JOSEObjectType.JWT, new JOSEObjectType("at+jwt"), new JOSEObjectType("application/at+jwt"), null);

    private final JwtConfig config;
    private final DefaultJWTProcessor<SecurityContext> processor = new DefaultJWTProcessor<>();

    private JwtVerifier(JwtConfig config, JWSKeySelector<SecurityContext> keys) {
        this.config = config;
        processor.setJWSTypeVerifier(TYPES);
        processor.setJWSKeySelector(keys);
        DefaultJWTClaimsVerifier<SecurityContext> claims = new DefaultJWTClaimsVerifier<>(config.audience(),
                new JWTClaimsSet.Builder().issuer(config.issuer()).build(), Set.of("exp", config.userClaim()));
        claims.setMaxClockSkew(CLOCK_SKEW_SECONDS);
        processor.setJWTClaimsSetVerifier(claims);
    }

    public static JwtVerifier of(JwtConfig config) {
        if (config.jwksUrl() != null) {
            return new JwtVerifier(config, new JWSVerificationKeySelector<>(asymmetric(), remoteKeys(config)));
        }
        PublicKey key = config.publicKey();
        Set<JWSAlgorithm> algorithms = key instanceof ECPublicKey ? JWSAlgorithm.Family.EC : JWSAlgorithm.Family.RSA;
        // one static key: whatever kid the token names, this is the key it must verify with
        return new JwtVerifier(config, (header, context) -> algorithms.contains(header.getAlgorithm())
                ? List.of(key) : List.of());
    }

    public JwtConfig config() {
        return config;
    }

    /** Three non-empty parts joined by dots: a signed JWT (API keys have no dots; unsigned JWTs end in a dot). */
    public static boolean looksLikeJwt(String bearer) {
        String[] parts = bearer.split("\\.", -1);
        return parts.length == 3 && !parts[0].isEmpty() && !parts[1].isEmpty() && !parts[2].isEmpty();
    }

    /**
     * A verified token: the user it names and all its claims (as nimbus reads them: strings, numbers,
     * booleans, lists, maps), which routing rules may match on.
     */
    public record Verified(String user, Map<String, Object> claims) {}

    /** The user and claims of the token; 401 when it is not valid here, 503 when the JWK set cannot be fetched. */
    public Verified verify(String token) {
        JWTClaimsSet claims;
        try {
            claims = processor.process(token, null);
        } catch (ParseException e) {
            throw invalid("The bearer token is not a well-formed JWT.");
        } catch (ExpiredJWTException e) {
            throw invalid("The JWT has expired.");
        } catch (BadJOSEException e) {
            // nimbus names the check and no claim value: "JWT aud claim rejected", "Signed JWT rejected: Invalid signature"
            throw invalid("Invalid JWT: " + e.getMessage() + ".");
        } catch (RateLimitReachedException e) {
            throw invalid("Invalid JWT: no key of the JWK set matches it.");
        } catch (JWKSetUnavailableException e) {
            LOG.log(Level.WARNING, "cannot fetch the JWK set at " + config.jwksUrl() + ": " + e.getMessage());
            throw new ApiException(503, "server_error", "jwks_unavailable", null,
                    "The JWT cannot be verified now: the identity provider's keys could not be fetched.", 5);
        } catch (JOSEException e) {
            throw invalid("Invalid JWT: it cannot be verified (" + e.getMessage() + ").");
        }
        Object user = claims.getClaim(config.userClaim());
        if (!(user instanceof String name) || name.isBlank()) {
            throw invalid("Invalid JWT: its '" + config.userClaim() + "' claim must be a non-empty string.");
        }
        if (name.length() > Identifiers.MAX_LENGTH) { // it names the user in logs, labels and the usage log
            throw invalid("Invalid JWT: its '" + config.userClaim() + "' claim is longer than " + Identifiers.MAX_LENGTH
                    + " characters.");
        }
        return new Verified(name, claims.getClaims());
    }

    private static Set<JWSAlgorithm> asymmetric() {
        Set<JWSAlgorithm> algorithms = new HashSet<>(JWSAlgorithm.Family.RSA);
        algorithms.addAll(JWSAlgorithm.Family.EC);
        return algorithms;
    }

    private static JWKSource<SecurityContext> remoteKeys(JwtConfig config) {
        try {
            return JWKSourceBuilder.<SecurityContext>create(config.jwksUrl().toURL()).retrying(true).build();
        } catch (MalformedURLException e) {
            throw new IllegalArgumentException("auth.jwt.jwks-url is not a URL: " + config.jwksUrl(), e);
        }
    }

    private static ApiException invalid(String message) {
        return new ApiException(401, "invalid_request_error", "invalid_api_key", null, message, null);
    }
}
