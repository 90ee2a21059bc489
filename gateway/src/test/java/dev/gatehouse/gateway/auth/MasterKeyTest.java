package dev.gatehouse.gateway.auth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class MasterKeyTest {
    private static final String LONG = "0123456789abcdef";

    @Test
    void theEnvironmentWinsOverTheConfigAndNeitherMeansNone() {
        assertEquals(LONG, MasterKey.choose(LONG, "config-key-0123456789"));
        assertEquals("config-key-0123456789", MasterKey.choose(null, "config-key-0123456789"));
        assertNull(MasterKey.choose(null, null));
    }

    @Test
    void anEmptyEnvironmentVariableIsAnErrorNotAnOverride() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> MasterKey.choose("", "config-key-0123456789"));
        assertTrue(e.getMessage().contains("GATEHOUSE_MASTER_KEY is set but empty"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> MasterKey.choose("   ", null));
    }

    @Test
    void aShortKeyIsRefusedNamingWhereItCameFrom() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> MasterKey.choose(null, "s3cret"));
        assertTrue(e.getMessage().contains("auth.master-key is 6 characters") && e.getMessage().contains("16"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> MasterKey.choose(LONG.substring(1), null));
    }
}
