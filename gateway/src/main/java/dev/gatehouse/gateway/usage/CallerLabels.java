package dev.gatehouse.gateway.usage;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.util.HexFormat;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * A caller as a metric label. A virtual key's id is random and says nothing, so it is the label. A
 * JWT user's name may be personal data, and a plain hash of it is no protection (anyone can hash a
 * list of likely names and compare), so it becomes an HMAC-SHA256 keyed with a server secret:
 * stable while the secret is, unlinkable to the name without it.
 */
final class CallerLabels {
    private final SecretKeySpec secret;

    /** {@code secret} null: a random one, good for this process only. */
    CallerLabels(String secret) {
        byte[] key = secret != null ? secret.getBytes(StandardCharsets.UTF_8) : randomKey();
        this.secret = new SecretKeySpec(key, "HmacSHA256");
    }

    /** "none" for the master key or open access, a key's id as it is, "jwt:" + 12 hex digits of the user's HMAC. */
    String of(String keyId) {
        if (keyId == null) {
            return "none";
        }
        if (!keyId.startsWith("jwt:")) {
            return keyId;
        }
        try {
            Mac mac = Mac.getInstance("HmacSHA256"); // not thread-safe: one per call
            mac.init(secret);
            return "jwt:" + HexFormat.of().formatHex(mac.doFinal(keyId.substring(4).getBytes(StandardCharsets.UTF_8)), 0, 6);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("every JDK has HmacSHA256", e);
        }
    }

    private static byte[] randomKey() {
        byte[] key = new byte[32];
        new SecureRandom().nextBytes(key);
        return key;
    }
}
