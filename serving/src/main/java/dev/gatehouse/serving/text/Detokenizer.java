package dev.gatehouse.serving.text;

import java.util.Arrays;

/**
 * Turns generated token ids into text as they arrive, for streaming.
 *
 * <p>A token cannot always be decoded on its own: SentencePiece tokens carry their leading space
 * as "▁", which the decoder drops at the start of a text, and byte-level tokens may hold only part
 * of a UTF-8 character. So each step decodes a small window (the tokens emitted last time, plus
 * the new ones) and emits only what the new tokens added; text ending in U+FFFD (an unfinished
 * character) is held back until a later token completes it. This is the prefix_offset/read_offset
 * method of TGI and vLLM. Special tokens are left out of the text.
 *
 * <p>The pieces joined equal {@code tokenizer.decode(allIds, true)}. Not thread-safe: one per
 * generated sequence.
 */
public final class Detokenizer {

    private static final char REPLACEMENT = '\uFFFD';

    private final Tokenizer tokenizer;
    /** Tokens emitted last time (decoded as {@link #prefixText}) followed by tokens not yet emitted. */
    private int[] window = new int[0];
    private int readOffset;
    private String prefixText = "";

    /** Tokens of context the window starts with, as vLLM primes its detokenizer. */
    private static final int CONTEXT_TOKENS = 5;

    public Detokenizer(Tokenizer tok) {
        this(tok, new int[0]);
    }

    /**
     * Starts after {@code context} (the prompt), so the first generated token decodes as a
     * continuation: a SentencePiece "▁word" keeps its space, as it does in the prompt + completion.
     */
    public Detokenizer(Tokenizer tok, int[] context) {
        this.tokenizer = tok;
        this.window = Arrays.copyOfRange(context, Math.max(0, context.length - CONTEXT_TOKENS), context.length);
        this.readOffset = window.length;
        this.prefixText = tokenizer.decode(window, true);
    }

    /** Adds one generated token; returns the text it completes, possibly "". */
    public String push(int tokenId) {
        window = Arrays.copyOf(window, window.length + 1);
        window[window.length - 1] = tokenId;
        String text = tokenizer.decode(window, true);
        if (text.length() <= prefixText.length() || text.charAt(text.length() - 1) == REPLACEMENT) {
            return "";
        }
        String added = text.substring(prefixText.length());
        // The tokens just emitted become the next window's prefix.
        window = Arrays.copyOfRange(window, readOffset, window.length);
        readOffset = window.length;
        prefixText = tokenizer.decode(window, true);
        return added;
    }

    /** At the end of generation: the text still held back (an unfinished character shows as U+FFFD). */
    public String flush() {
        String text = tokenizer.decode(window, true);
        String rest = text.length() > prefixText.length() ? text.substring(prefixText.length()) : "";
        window = new int[0];
        readOffset = 0;
        prefixText = "";
        return rest;
    }
}
