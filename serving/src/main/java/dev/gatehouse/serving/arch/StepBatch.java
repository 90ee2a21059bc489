package dev.gatehouse.serving.arch;

/**
 * The input of one forward pass: {@code batchSize} sequences that each feed {@code tokensPerSeq}
 * new tokens (1 when decoding, a prompt chunk when prefilling). Sequence {@code b}'s new tokens
 * take positions {@code starts[b] ... starts[b] + tokensPerSeq - 1}, and position {@code p} lives in
 * KV-cache block {@code blockTables[b][p / KvCache.BLOCK_SIZE]}.
 *
 * @param tokens row-major [batchSize, tokensPerSeq]
 */
public record StepBatch(int[] tokens, int batchSize, int tokensPerSeq, int[] starts, int[][] blockTables) {
    public StepBatch {
        if (tokens.length != batchSize * tokensPerSeq || starts.length != batchSize || blockTables.length != batchSize) {
            throw new IllegalArgumentException("inconsistent batch: " + tokens.length + " tokens for "
                    + batchSize + " x " + tokensPerSeq);
        }
    }

    /** One sequence feeding {@code tokens} at positions {@code start...}, its positions in {@code blockTable}. */
    public static StepBatch single(int[] tokens, int start, int[] blockTable) {
        return new StepBatch(tokens, 1, tokens.length, new int[] {start}, new int[][] {blockTable});
    }

    /** The attention span this step needs: the longest sequence after its new tokens. */
    public int span() {
        int max = 0;
        for (int s : starts) {
            max = Math.max(max, s + tokensPerSeq);
        }
        return max;
    }
}
