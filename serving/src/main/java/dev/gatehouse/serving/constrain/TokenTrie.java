package dev.gatehouse.serving.constrain;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;

/**
 * A model's vocabulary as tries over token bytes, built once per model: a token mask is one walk down a
 * trie, pruning every branch the parse state rejects at its first byte, so a state that allows few tokens
 * costs little.
 *
 * <p>Inside a string most of a vocabulary is allowed, so walking all of it would be the slowest step. There
 * the "plain" tokens (whole UTF-8 characters, no quote, backslash or control character) are allowed by their
 * length alone, from a list sorted by length, and only the other tokens are walked, in a trie of their own.
 */
public final class TokenTrie {
    private final TokenVocabulary vocabulary;
    private final int vocabSize;
    private final int[] eosIds;
    /** Every token that writes bytes, eos excepted. */
    final Nodes all;
    /** The tokens that are not plain string content. */
    final Nodes notPlain;
    /** The plain tokens, fewest characters first, and their character counts. */
    private final int[] plainIds;
    private final int[] plainChars;

    /**
     * @param eosIds the ids that end an answer: kept out of the tries, and allowed only where the document
     *     may end
     */
    public TokenTrie(TokenVocabulary vocabulary, Set<Integer> eosIds) {
        this.vocabulary = vocabulary;
        this.vocabSize = vocabulary.size();
        this.eosIds = eosIds.stream().mapToInt(Integer::intValue).filter(id -> id >= 0).sorted().toArray();
        List<Integer> usable = new ArrayList<>();
        List<Integer> notPlainIds = new ArrayList<>();
        List<int[]> plain = new ArrayList<>(); // {id, chars}
        for (int id = 0; id < vocabulary.size(); id++) {
            byte[] b = vocabulary.bytes(id);
            if (b != null && b.length > 0 && !eosIds.contains(id)) {
                usable.add(id);
                int chars = plainChars(b);
                if (chars < 0) {
                    notPlainIds.add(id);
                } else {
                    plain.add(new int[] {id, chars});
                }
            }
        }
        this.all = new Nodes(vocabulary, usable);
        this.notPlain = new Nodes(vocabulary, notPlainIds);
        plain.sort((a, b) -> Integer.compare(a[1], b[1]));
        this.plainIds = plain.stream().mapToInt(p -> p[0]).toArray();
        this.plainChars = plain.stream().mapToInt(p -> p[1]).toArray();
    }

    /** Characters of string content the token is, or -1 when it is not plain string content. */
    private static int plainChars(byte[] bytes) {
        for (byte b : bytes) {
            if ((b & 0xff) < 0x20 || b == '"' || b == '\\') {
                return -1;
            }
        }
        try {
            String s = StandardCharsets.UTF_8.newDecoder().decode(ByteBuffer.wrap(bytes)).toString();
            return s.codePointCount(0, s.length());
        } catch (CharacterCodingException e) {
            return -1; // part of a character
        }
    }

    /** Ids 0 .. vocabSize - 1 may be in a mask. */
    public int vocabSize() {
        return vocabSize;
    }

    int[] eosIds() {
        return eosIds;
    }

    boolean isEos(int id) {
        return Arrays.binarySearch(eosIds, id) >= 0;
    }

    /** The bytes token {@code id} writes; null for a special token. */
    byte[] bytes(int id) {
        return vocabulary.bytes(id);
    }

    /** Sets the bit of every plain token of at most {@code room} characters. */
    void addPlain(int room, long[] bits) {
        for (int i = 0; i < plainIds.length && plainChars[i] <= room; i++) {
            int id = plainIds[i];
            bits[id >> 6] |= 1L << id;
        }
    }

    /**
     * One trie. Nodes are numbered, 0 the root; the children of node n are the edges {@code firstChild[n] ..},
     * {@code childCount[n]} of them, and the tokens that end at node n are {@code tokens[firstToken[n] ..]},
     * {@code tokenCount[n]} of them.
     */
    static final class Nodes {
        static final int ROOT = 0;

        private final int[] tokens;
        private byte[] edgeBytes = new byte[1024];
        private int[] edgeNodes = new int[1024];
        private int[] firstChild = new int[1024];
        private int[] childCount = new int[1024];
        private int[] firstToken = new int[1024];
        private int[] tokenCount = new int[1024];
        private int nodes = 1;
        private int edges;
        private int tokensPlaced;

        Nodes(TokenVocabulary vocabulary, List<Integer> ids) {
            List<Integer> order = new ArrayList<>(ids);
            order.sort((a, b) -> Arrays.compareUnsigned(vocabulary.bytes(a), vocabulary.bytes(b)));
            byte[][] sorted = new byte[order.size()][];
            int[] sortedIds = new int[order.size()];
            for (int i = 0; i < sortedIds.length; i++) {
                sortedIds[i] = order.get(i);
                sorted[i] = vocabulary.bytes(sortedIds[i]);
            }
            this.tokens = new int[sortedIds.length];
            build(sorted, sortedIds, 0, sortedIds.length, 0, ROOT);
            edgeBytes = Arrays.copyOf(edgeBytes, edges);
            edgeNodes = Arrays.copyOf(edgeNodes, edges);
            firstChild = Arrays.copyOf(firstChild, nodes);
            childCount = Arrays.copyOf(childCount, nodes);
            firstToken = Arrays.copyOf(firstToken, nodes);
            tokenCount = Arrays.copyOf(tokenCount, nodes);
        }

        /**
         * Fills in {@code node}, the prefix of length {@code depth} that sorted[lo..hi) share: the tokens that
         * end there (sorted first), then one child per distinct next byte, whose edges sit side by side.
         */
        private void build(byte[][] sorted, int[] ids, int lo, int hi, int depth, int node) {
            ensureNodes(node + 1);
            int i = lo;
            firstToken[node] = tokensPlaced;
            while (i < hi && sorted[i].length == depth) {
                tokens[tokensPlaced++] = ids[i++];
            }
            tokenCount[node] = tokensPlaced - firstToken[node];
            List<int[]> runs = new ArrayList<>(); // [from, to) of the tokens under each child
            for (int j = i; j < hi; ) {
                int k = j;
                while (k < hi && sorted[k][depth] == sorted[j][depth]) {
                    k++;
                }
                runs.add(new int[] {j, k});
                j = k;
            }
            firstChild[node] = edges;
            childCount[node] = runs.size();
            ensureEdges(edges + runs.size());
            int first = edges;
            for (int[] run : runs) {
                edgeBytes[edges] = sorted[run[0]][depth];
                edgeNodes[edges++] = nodes++;
            }
            for (int r = 0; r < runs.size(); r++) {
                build(sorted, ids, runs.get(r)[0], runs.get(r)[1], depth + 1, edgeNodes[first + r]);
            }
        }

        private void ensureNodes(int size) {
            if (size > firstChild.length) {
                int grown = Math.max(size, firstChild.length * 2);
                firstChild = Arrays.copyOf(firstChild, grown);
                childCount = Arrays.copyOf(childCount, grown);
                firstToken = Arrays.copyOf(firstToken, grown);
                tokenCount = Arrays.copyOf(tokenCount, grown);
            }
        }

        private void ensureEdges(int size) {
            if (size > edgeBytes.length) {
                int grown = Math.max(size, edgeBytes.length * 2);
                edgeBytes = Arrays.copyOf(edgeBytes, grown);
                edgeNodes = Arrays.copyOf(edgeNodes, grown);
            }
        }

        int firstChild(int node) {
            return firstChild[node];
        }

        int childCount(int node) {
            return childCount[node];
        }

        int edgeByte(int edge) {
            return edgeBytes[edge] & 0xff;
        }

        int edgeNode(int edge) {
            return edgeNodes[edge];
        }

        int firstToken(int node) {
            return firstToken[node];
        }

        int tokenCount(int node) {
            return tokenCount[node];
        }

        int token(int index) {
            return tokens[index];
        }
    }
}
