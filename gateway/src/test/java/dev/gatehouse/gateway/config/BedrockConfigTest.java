package dev.gatehouse.gateway.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class BedrockConfigTest {
    static final String SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";

    @Test
    void regionPicksTheEndpointAndCredentialsComeFromFilesOrTheDefaultChain(@TempDir Path dir) throws Exception {
        Files.writeString(dir.resolve("secret"), SECRET + "\n");
        Files.writeString(dir.resolve("token"), "session-token\n");
        GatehouseConfig c = GatehouseConfig.parse("""
                providers:
                  paris:    {type: bedrock, region: eu-west-3, access-key-id: AKIDEXAMPLE, secret-access-key-file: %s,
                             session-token-file: %s}
                  virginia: {type: bedrock, region: us-east-1}
                  proxied:  {type: bedrock, region: us-west-2, base-url: "http://127.0.0.1:9000/"}
                  broken:   {type: bedrock, region: us-east-1, access-key-id: AKIDEXAMPLE, secret-access-key-file: %s}
                """.formatted(dir.resolve("secret"), dir.resolve("token"), dir.resolve("absent")), Map.of());

        ProviderConfig paris = c.providers().get("paris");
        assertEquals("https://bedrock-runtime.eu-west-3.amazonaws.com", paris.baseUrl());
        assertEquals(new ProviderConfig.Aws("eu-west-3", "AKIDEXAMPLE", SECRET, "session-token"), paris.aws());
        assertEquals(new ProviderConfig.Aws("us-east-1", null, null, null), c.providers().get("virginia").aws(),
                "no credentials: the AWS SDK's default chain");
        assertEquals("http://127.0.0.1:9000", c.providers().get("proxied").baseUrl());
        assertFalse(c.providers().containsKey("broken"), "an unreadable secret file skips its provider");
        assertTrue(c.warnings().stream().anyMatch(w -> w.contains("'broken' skipped")), c.warnings().toString());
        assertFalse(c.toString().contains(SECRET));
        assertFalse(c.toString().contains("session-token"));
        assertNull(c.providers().get("virginia").apiKey());
    }

    @Test
    void incompleteOrWrongCredentialsAreConfigErrors() {
        assertTrue(error("{type: bedrock}").contains("region"));
        assertTrue(error("{type: bedrock, region: us-east-1, access-key-id: AKID}").contains("together"));
        assertTrue(error("{type: bedrock, region: us-east-1, api-key: k}").contains("not api-key"));
        assertTrue(error("{type: bedrock, region: 'us east 1'}").contains("not an AWS region"));
    }

    private static String error(String provider) {
        return assertThrows(ConfigException.class, () -> GatehouseConfig.parse("providers: {p: " + provider + "}", Map.of()))
                .getMessage();
    }
}
