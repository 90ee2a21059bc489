package dev.gatehouse.serving.engine;

import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;

/**
 * The prefix-cache key of one full KV block: SHA-256 over the previous block's key and this block's
 * tokens, so it stands for every token from the start of the sequence, not only the block's own
 * (keys and values depend on all of them). A cryptographic hash, as vLLM moved to, because a client
 * that could craft a colliding prompt would otherwise be served another client's cached prefix;
 * 128 of its bits are kept, and a hit also compares the block's own tokens.
 */
record BlockHash(long high, long low) {

    /** The key of the block of {@code tokens[from, from + count)} that follows {@code previous} (null for the first block). */
    static BlockHash of(BlockHash previous, int[] tokens, int from, int count) {
        ByteBuffer bytes = ByteBuffer.allocate(16 + 4 * count);
        if (previous != null) {
            bytes.putLong(previous.high).putLong(previous.low);
        } else {
            bytes.putLong(0).putLong(0);
        }
        for (int i = from; i < from + count; i++) {
            bytes.putInt(tokens[i]);
        }
        ByteBuffer digest = ByteBuffer.wrap(sha256().digest(bytes.array()));
        return new BlockHash(digest.getLong(), digest.getLong());
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java runtime has SHA-256", e);
        }
    }
}
