package dev.gatehouse.gateway.backend;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.gatehouse.gateway.chat.OriginalRequest;
import dev.gatehouse.gateway.config.ProviderConfig;
import dev.gatehouse.gateway.config.ProviderType;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ProvidersTest {
    private static Backend backend(ProviderType type) {
        return Providers.backend(new ProviderConfig("p", type, "http://127.0.0.1:9", "key", "2024-10-21", 1_000, Map.of(),
                ProviderConfig.Prices.NONE, ProviderConfig.Failures.DEFAULT,
                new ProviderConfig.Aws("us-east-1", "AKIDEXAMPLE", "secret", null), type == ProviderType.OPENAI, new ProviderConfig.Gcp("p", "global", null)));
    }

    @Test
    void everyProviderTypeIsRegisteredAndDeclaresWhatItsTranslatorsCarry() {
        for (ProviderType type : ProviderType.values()) {
            Capabilities expected = switch (type) {
                case OPENAI -> Capabilities.EVERYTHING.takingOriginals(OriginalRequest.Dialect.OPENAI_RESPONSES); // responses-api
                case OPENAI_COMPATIBLE, AZURE_OPENAI, GEMINI -> Capabilities.EVERYTHING;
                case ANTHROPIC -> new Capabilities(true, true, false, true, null) // json_schema as a forced tool
                        .takingOriginals(OriginalRequest.Dialect.ANTHROPIC_MESSAGES);
                case BEDROCK -> new Capabilities(true, true, false, false, null); // Converse has no response formats
                case VERTEX -> Capabilities.EVERYTHING; // Claude on Vertex refuses json_object in its body
            };
            assertEquals(expected, backend(type).capabilities(), type.wireName());
        }
    }
}
