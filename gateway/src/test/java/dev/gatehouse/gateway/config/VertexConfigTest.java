package dev.gatehouse.gateway.config;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class VertexConfigTest {
    static final String KEY_FILE = """
            {"type":"service_account","project_id":"from-the-file","private_key":"-----BEGIN PRIVATE KEY-----\\nSECRETBITS\\n-----END PRIVATE KEY-----\\n",
             "client_email":"sa@from-the-file.iam.gserviceaccount.com","token_uri":"https://oauth2.googleapis.com/token"}""";

    @Test
    void locationPicksTheEndpointAndTheProjectMayComeFromTheKeyFile(@TempDir Path dir) throws Exception {
        Files.writeString(dir.resolve("sa.json"), KEY_FILE);
        GatehouseConfig c = GatehouseConfig.parse("""
                providers:
                  keyed:   {type: vertex, location: us-east5, credentials-file: %s}
                  adc:     {type: vertex, project: my-project}
                  private: {type: vertex, project: my-project, location: europe-west4, base-url: "http://127.0.0.1:9000/"}
                  broken:  {type: vertex, project: my-project, credentials-file: %s}
                """.formatted(dir.resolve("sa.json"), dir.resolve("absent.json")), Map.of());

        ProviderConfig keyed = c.providers().get("keyed");
        assertEquals("https://us-east5-aiplatform.googleapis.com", keyed.baseUrl());
        assertEquals("from-the-file", keyed.gcp().project());
        assertArrayEquals(KEY_FILE.getBytes(StandardCharsets.UTF_8), keyed.gcp().credentialsJson());
        ProviderConfig adc = c.providers().get("adc");
        assertEquals("https://aiplatform.googleapis.com", adc.baseUrl(), "location global by default");
        assertEquals("global", adc.gcp().location());
        assertNull(adc.gcp().credentialsJson(), "no file: Application Default Credentials");
        assertEquals("http://127.0.0.1:9000", c.providers().get("private").baseUrl());
        assertFalse(c.providers().containsKey("broken"), "an unreadable credentials file skips its provider");
        assertTrue(c.warnings().stream().anyMatch(w -> w.contains("'broken' skipped")), c.warnings().toString());
        assertFalse(c.toString().contains("SECRETBITS"), "the key file's contents never print");
    }

    @Test
    void missingOrWrongSettingsAreConfigErrors(@TempDir Path dir) throws Exception {
        assertTrue(error("{type: vertex}").contains("project: required"));
        assertTrue(error("{type: vertex, project: p1, api-key: k}").contains("not api-key"));
        assertTrue(error("{type: vertex, project: p1, location: 'us east'}").contains("not a Google Cloud location"));
        assertTrue(error("{type: vertex, project: 'a/b'}").contains("not a Google Cloud project id"));
        Files.writeString(dir.resolve("not.json"), "hello");
        assertTrue(error("{type: vertex, project: p1, credentials-file: " + dir.resolve("not.json") + "}")
                .contains("not a Google credentials JSON file"));
    }

    private static String error(String provider) {
        return assertThrows(ConfigException.class, () -> GatehouseConfig.parse("providers: {p: " + provider + "}", Map.of()))
                .getMessage();
    }
}
