package dev.gatehouse.gateway.backend.local;

import dev.gatehouse.serving.embed.EmbeddingBatcher;

import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * An embedding model of the local store with its batcher, and the requests using it: a request holds a
 * {@link Lease} while it tokenizes and waits for its vectors, so unloading waits for them (up to the grace
 * period) before the tokenizer and the model are closed, as chat engines let running generations finish.
 */
public final class LocalEmbedder {
    private final EmbeddingBatcher batcher;
    private int inUse; // guarded by this
    private boolean shutDown; // guarded by this

    LocalEmbedder(EmbeddingBatcher batcher) {
        this.batcher = batcher;
    }

    /** One request's use of the model; close it when the request is done. */
    public final class Lease implements AutoCloseable {
        private final AtomicBoolean released = new AtomicBoolean();

        private Lease() {}

        public EmbeddingBatcher batcher() {
            return batcher;
        }

        @Override
        public void close() {
            if (released.compareAndSet(false, true)) {
                release();
            }
        }
    }

    EmbeddingBatcher batcher() {
        return batcher;
    }

    /** A lease for one request; empty once the model is being unloaded. */
    synchronized Optional<Lease> lease() {
        if (shutDown) {
            return Optional.empty();
        }
        inUse++;
        return Optional.of(new Lease());
    }

    private synchronized void release() {
        inUse--;
        notifyAll();
    }

    /** Whether a request holds a lease now. */
    synchronized boolean inUse() {
        return inUse > 0;
    }

    /** Takes no new requests. */
    synchronized void shutdown() {
        shutDown = true;
    }

    /** Waits up to {@code millis} for the requests holding a lease to finish; true if they all did. */
    synchronized boolean awaitIdle(long millis) throws InterruptedException {
        long deadline = System.currentTimeMillis() + millis;
        while (inUse > 0) {
            long left = deadline - System.currentTimeMillis();
            if (left <= 0) {
                return false;
            }
            wait(left);
        }
        return true;
    }

    /** Closes the batcher (inputs still queued fail) and the model, which the batcher does not own. */
    void close() {
        batcher.close();
        batcher.model().close();
    }
}
