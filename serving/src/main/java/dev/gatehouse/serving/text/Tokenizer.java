package dev.gatehouse.serving.text;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import dev.gatehouse.serving.NativeLibraries;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;

/**
 * A model's tokenizer, read from the {@code tokenizer.json} in its folder (HuggingFace tokenizers,
 * through DJL's native binding).
 *
 * <p>Truncation and padding are always off, whatever tokenizer.json says: a prompt is encoded in
 * full, and the engine decides what is too long. Encoding follows tokenizer.json alone; DJL's
 * emulation of tokenizer_config.json options (lower-casing, accent stripping, space clean-up) is
 * not used, so streamed and non-streamed decoding agree.
 *
 * <p>Thread-safe. Holds a native handle: {@link #close()} it when the model is unloaded.
 */
public final class Tokenizer implements AutoCloseable {

    static final String FILE = "tokenizer.json";

    /** DJL's own defaults truncate at 512 and pad; "false" turns both off on the native tokenizer. */
    private static final Map<String, String> OPTIONS = Map.of("truncation", "false", "padding", "false");

    static {
        // DJL pings a telemetry endpoint when it creates a tokenizer unless told not to; a
        // self-hosted gateway should not. An explicit setting by the operator is left alone.
        if (System.getenv("OPT_OUT_TRACKING") == null && System.getProperty("OPT_OUT_TRACKING") == null) {
            System.setProperty("OPT_OUT_TRACKING", "true");
        }
        NativeLibraries.pinOffline(); // the CPU tokenizers library inside the jar, never a download
    }

    private final HuggingFaceTokenizer tokenizer;

    private Tokenizer(HuggingFaceTokenizer tokenizer) {
        this.tokenizer = tokenizer;
    }

    /**
     * Loads {@code tokenizer.json} from a model folder.
     *
     * @throws IllegalArgumentException naming the file when it is missing, unreadable or invalid
     */
    public static Tokenizer load(Path folder) {
        Path file = folder.resolve(FILE);
        if (!Files.isRegularFile(file)) {
            throw new IllegalArgumentException("no tokenizer file: " + file);
        }
        try (InputStream in = Files.newInputStream(file)) {
            return new Tokenizer(HuggingFaceTokenizer.newInstance(in, OPTIONS));
        } catch (IOException | RuntimeException e) {
            throw new IllegalArgumentException("cannot load tokenizer " + file + ": " + e.getMessage(), e);
        }
    }

    /**
     * Text to token ids.
     *
     * @param addSpecialTokens whether the tokenizer's post-processor adds its special tokens (for
     *     example a bos token). Pass false for a prompt rendered by {@link ChatTemplate}, which
     *     already contains them.
     */
    public int[] encode(String text, boolean addSpecialTokens) {
        long[] ids = tokenizer.encode(text, addSpecialTokens, false).getIds();
        return Arrays.stream(ids).mapToInt(Math::toIntExact).toArray();
    }

    /** Token ids to text; special tokens (bos, eos, chat markers) are left out when asked. */
    public String decode(int[] ids, boolean skipSpecialTokens) {
        return tokenizer.decode(Arrays.stream(ids).asLongStream().toArray(), skipSpecialTokens);
    }

    /**
     * The text of a single token, for display (logprobs). Special tokens are shown. A byte-level
     * token that holds only part of a UTF-8 character shows as U+FFFD, and a SentencePiece token's
     * leading space may be dropped, since the token is decoded on its own.
     */
    public String tokenText(int id) {
        return decode(new int[] {id}, false);
    }

    @Override
    public void close() {
        tokenizer.close();
    }
}
