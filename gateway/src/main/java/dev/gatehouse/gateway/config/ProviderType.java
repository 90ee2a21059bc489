package dev.gatehouse.gateway.config;

import java.util.Arrays;
import java.util.Optional;

/** The wire dialects Gatehouse can speak to upstream, under their gatehouse.yaml names. */
public enum ProviderType {
    OPENAI("openai"),
    OPENAI_COMPATIBLE("openai-compatible"),
    AZURE_OPENAI("azure-openai"),
    ANTHROPIC("anthropic"),
    GEMINI("gemini"),
    BEDROCK("bedrock"),
    VERTEX("vertex");

    private final String wireName;

    ProviderType(String wireName) {
        this.wireName = wireName;
    }

    public String wireName() {
        return wireName;
    }

    public static Optional<ProviderType> of(String name) {
        return Arrays.stream(values()).filter(t -> t.wireName.equals(name)).findFirst();
    }
}
