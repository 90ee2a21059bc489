package dev.gatehouse.gateway.usage;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gatehouse.gateway.store.KeyStore;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Clock;
import java.util.HexFormat;
import org.junit.jupiter.api.Test;

class UsageRecorderTest {
    private static UsageRecorder recorder(String labelSecret) {
        return new UsageRecorder(Pricing.free(), null, Clock.systemUTC(), new SimpleMeterRegistry(), labelSecret);
    }

    @Test
    void metricLabelsNeverCarryAJwtUsersName() {
        UsageRecorder usage = recorder("a-server-secret-0123456789");
        assertEquals("key_0123abcd", usage.keyTag("key_0123abcd"));
        assertEquals("none", usage.keyTag(null));
        String tag = usage.keyTag("jwt:alice@example.com");
        assertTrue(tag.matches("jwt:[0-9a-f]{12}"), tag);
        assertFalse(tag.contains("alice"));
        assertEquals(tag, usage.keyTag("jwt:alice@example.com")); // stable across requests
    }

    @Test
    void aJwtUsersLabelIsAKeyedHashNotOneAnyoneCanRecompute() {
        String plainSha = "jwt:" + HexFormat.of().formatHex(KeyStore.sha256("alice@example.com"), 0, 6);
        String tag = recorder("a-server-secret-0123456789").keyTag("jwt:alice@example.com");
        assertNotEquals(plainSha, tag, "a plain SHA-256 of a guessed name must not match the label");
        assertEquals(tag, recorder("a-server-secret-0123456789").keyTag("jwt:alice@example.com"), "same secret, same label");
        assertNotEquals(tag, recorder("another-secret-9876543210").keyTag("jwt:alice@example.com"));
        assertNotEquals(recorder(null).keyTag("jwt:alice@example.com"), recorder(null).keyTag("jwt:alice@example.com"),
                "without a configured secret each start draws its own");
    }
}
