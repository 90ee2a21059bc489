package dev.gatehouse.gateway.usage;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class UsageRecorderTest {
    @Test
    void metricLabelsNeverCarryAJwtUsersName() {
        assertEquals("key_0123abcd", UsageRecorder.keyTag("key_0123abcd"));
        assertEquals("none", UsageRecorder.keyTag(null));
        String tag = UsageRecorder.keyTag("jwt:alice@example.com");
        assertTrue(tag.matches("jwt:[0-9a-f]{12}"), tag);
        assertFalse(tag.contains("alice"));
        assertEquals(tag, UsageRecorder.keyTag("jwt:alice@example.com")); // stable across requests
    }
}
