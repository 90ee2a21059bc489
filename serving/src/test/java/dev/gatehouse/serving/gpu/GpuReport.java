package dev.gatehouse.serving.gpu;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * Where the GPU checks put what scripts/gpu-check prints and compares: one table row per measured
 * figure ({@code rows.tsv}) and, per model folder, the prompt, greedy ids and first-step logits
 * that the transformers oracle checks ({@code NAME.json}). The folder is the system property
 * {@code gatehouse.gpu.out} (a temporary one when unset, as under Maven).
 */
final class GpuReport {
    static final Path OUT = out();

    private GpuReport() {}

    private static Path out() {
        try {
            String dir = System.getProperty("gatehouse.gpu.out");
            Path path = dir != null ? Path.of(dir) : Files.createTempDirectory("gatehouse-gpu");
            Files.createDirectories(path);
            return path;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** One row of the printed table: what was checked, the figure, the bound it must meet. */
    static synchronized void row(String check, String figure, String bound) {
        write("rows.tsv", String.join("\t", check, figure, bound) + "\n", true);
    }

    static void write(String file, String text, boolean append) {
        try {
            Files.writeString(OUT.resolve(file), text, StandardCharsets.UTF_8, StandardOpenOption.CREATE,
                    append ? StandardOpenOption.APPEND : StandardOpenOption.TRUNCATE_EXISTING);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
