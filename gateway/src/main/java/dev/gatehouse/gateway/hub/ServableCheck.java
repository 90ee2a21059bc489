package dev.gatehouse.gateway.hub;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.gatehouse.serving.load.ModelConfig;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Whether Gatehouse can serve a model folder, judged from its files alone (nothing is loaded). */
public final class ServableCheck {
    private static final ObjectMapper JSON = new ObjectMapper();

    private ServableCheck() {}

    /** The first entry of config.json's architectures, or null. */
    public static String architecture(Path folder) {
        Path config = folder.resolve("config.json");
        try {
            return Files.isRegularFile(config) ? JSON.readTree(config.toFile()).path("architectures").path(0).asText(null) : null;
        } catch (IOException e) {
            return null;
        }
    }

    /** Embedding models: a sentence-transformers folder (modules.json) or a bare BERT encoder. */
    public static boolean isEmbedding(Path folder) {
        return Files.isRegularFile(folder.resolve("modules.json")) || "BertModel".equals(architecture(folder));
    }

    public static boolean servable(Path folder) {
        return isEmbedding(folder) || ModelConfig.SUPPORTED.contains(architecture(folder));
    }

    /** A warning for the user, or null when the folder looks servable. */
    public static String warning(Path folder) {
        if (servable(folder)) {
            return null;
        }
        String arch = architecture(folder);
        return "warning: Gatehouse cannot serve " + folder.getFileName() + " ("
                + (arch == null ? "config.json names no architecture" : "architecture " + arch)
                + "); supported: " + String.join(", ", ModelConfig.SUPPORTED) + ", and BERT / sentence-transformers embedding models";
    }
}
