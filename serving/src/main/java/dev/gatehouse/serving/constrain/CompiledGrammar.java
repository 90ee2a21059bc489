package dev.gatehouse.serving.constrain;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A grammar over one model's vocabulary: hands out a {@link GrammarMatcher} per answer, and computes the
 * token mask of each parse state once (one walk of the {@link TokenTrie}), then serves it from a bounded
 * cache: answers to the same schema pass through the same states again and again, and a plain character
 * inside a string leaves the state as it is.
 */
public final class CompiledGrammar {
    /** Masks kept per grammar (a byte-level vocabulary's mask is about 19 KB); past that the cache starts over. */
    static final int MAX_CACHED_MASKS = 2048;

    private final Grammar root;
    private final TokenTrie trie;
    private final Map<ParseState, TokenMask> masks = new ConcurrentHashMap<>();

    CompiledGrammar(Grammar root, TokenTrie trie) {
        this.root = root;
        this.trie = trie;
    }

    public GrammarMatcher newMatcher() {
        return new GrammarMatcher(this, ParseState.start(root));
    }

    TokenTrie trie() {
        return trie;
    }

    TokenMask mask(ParseState state) {
        TokenMask mask = masks.get(state);
        if (mask == null) {
            mask = compute(state);
            if (masks.size() >= MAX_CACHED_MASKS) {
                masks.clear();
            }
            masks.put(state, mask);
        }
        return mask;
    }

    /** Walks the trie from the root, following only the bytes the state accepts. */
    private TokenMask compute(ParseState state) {
        long[] bits = new long[(trie.vocabSize() + 63) >> 6];
        int room = state.plainStringRoom();
        if (room >= 0) { // inside a string: plain tokens by their length, the rest by walking
            trie.addPlain(room, bits);
            walk(trie.notPlain, TokenTrie.Nodes.ROOT, state, Integer.MAX_VALUE, bits);
        } else {
            walk(trie.all, TokenTrie.Nodes.ROOT, state, Math.max(0, state.formatChars()) + 1, bits);
        }
        boolean any = false;
        for (long w : bits) {
            any |= w != 0;
        }
        // where the document may end, so may the answer; a dead end (a vocabulary without some byte) ends it too
        if (state.accepting() || !any) {
            for (int id : trie.eosIds()) {
                if (id >> 6 < bits.length) {
                    bits[id >> 6] |= 1L << id;
                }
            }
        }
        return new TokenMask(bits);
    }

    /**
     * Adds the tokens below {@code node} that {@code state} accepts. Inside a formatted string (date, uuid,
     * email, ...) a token may add one character at most ({@code formatLimit}): each step then checks a few hundred
     * short tokens against the format rather than every word of the vocabulary.
     */
    private static void walk(TokenTrie.Nodes trie, int node, ParseState state, int formatLimit, long[] bits) {
        boolean formatCharWritten = state.formatChars() >= formatLimit; // then only the closing quote may follow
        int first = trie.firstChild(node);
        for (int e = first; e < first + trie.childCount(node); e++) {
            if (formatCharWritten && trie.edgeByte(e) != '"') {
                continue;
            }
            ParseState next = state.advance(trie.edgeByte(e));
            if (next == null) {
                continue;
            }
            int child = trie.edgeNode(e);
            int from = trie.firstToken(child);
            for (int t = from; t < from + trie.tokenCount(child); t++) {
                int id = trie.token(t);
                bits[id >> 6] |= 1L << id;
            }
            walk(trie, child, next, formatLimit, bits);
        }
    }
}
