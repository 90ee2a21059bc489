package dev.gatehouse.serving.bench;

import dev.gatehouse.serving.testing.TestModelFolder;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/** Random-weight models of real shapes for the benchmarks, written once and reused. */
final class BenchModels {
    static final Map<String, TestModelFolder> SHAPES = Map.of(
            "smollm2-135m", TestModelFolder.llama().hidden(576).intermediate(1536).layers(30).heads(9).kvHeads(3)
                    .vocab(49152).tied(true).maxPositions(8192),
            "qwen2.5-0.5b", TestModelFolder.qwen2().hidden(896).intermediate(4864).layers(24).heads(14).kvHeads(2)
                    .vocab(151936).tied(true).maxPositions(32768));

    private BenchModels() {}

    /** Writes the named models (all by default) if missing and prints their folders, one a line. */
    public static void main(String[] args) throws Exception {
        for (String name : names(args)) {
            System.out.println(folder(name).toAbsolutePath());
        }
    }

    static List<String> names(String[] args) {
        return args.length > 0 ? List.of(args[0].split(",")) : List.of("smollm2-135m", "qwen2.5-0.5b");
    }

    static TestModelFolder shape(String name) {
        TestModelFolder shape = SHAPES.get(name);
        if (shape == null) {
            throw new IllegalArgumentException("unknown shape " + name + "; known: " + SHAPES.keySet());
        }
        return shape;
    }

    /** The model's folder under {@code -Dbench.models} (default target/bench-models), written on first use. */
    static Path folder(String name) throws Exception {
        Path dir = Path.of(System.getProperty("bench.models", "target/bench-models")).resolve(name);
        if (!Files.exists(dir.resolve("config.json"))) {
            System.err.println("writing random " + name + " to " + dir + " ...");
            shape(name).write(dir);
        }
        return dir;
    }
}
