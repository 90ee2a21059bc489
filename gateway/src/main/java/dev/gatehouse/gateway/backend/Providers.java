package dev.gatehouse.gateway.backend;

import dev.gatehouse.gateway.backend.anthropic.AnthropicProvider;
import dev.gatehouse.gateway.backend.bedrock.BedrockProvider;
import dev.gatehouse.gateway.backend.gemini.GeminiProvider;
import dev.gatehouse.gateway.backend.openai.OpenAiProvider;
import dev.gatehouse.gateway.backend.vertex.VertexProvider;
import dev.gatehouse.gateway.config.ProviderConfig;
import dev.gatehouse.gateway.config.ProviderType;

import java.util.Map;
import java.util.function.Function;

/** The provider registry: each gatehouse.yaml {@code type} and the API it speaks on the one {@link HttpProvider}. */
public final class Providers {
    private static final Map<ProviderType, Function<ProviderConfig, ProviderApi>> APIS = Map.of(
            ProviderType.OPENAI, OpenAiProvider::new,
            ProviderType.OPENAI_COMPATIBLE, OpenAiProvider::new,
            ProviderType.AZURE_OPENAI, OpenAiProvider::new,
            ProviderType.ANTHROPIC, AnthropicProvider::new,
            ProviderType.GEMINI, GeminiProvider::new,
            ProviderType.BEDROCK, BedrockProvider::new,
            ProviderType.VERTEX, VertexProvider::new);

    private Providers() {}

    public static Backend backend(ProviderConfig config) {
        return new HttpProvider(config, APIS.get(config.type()).apply(config));
    }
}
