package dev.gatehouse.serving.embed;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * Gathers concurrent embedding requests into one padded forward pass, on one thread per model
 * (the only thread that calls {@link EmbeddingModel#embed}). A batch starts with the first waiting
 * input and takes whatever else arrives within {@code maxDelay}, up to {@code maxBatchSize} inputs;
 * a lone request therefore waits at most {@code maxDelay} longer than it would alone.
 */
public final class EmbeddingBatcher implements AutoCloseable {
    /** Told what the batcher does, for metrics; called on the batcher's thread, so it must be quick. */
    public interface Listener {
        /** A forward pass ran over {@code size} inputs. */
        void batch(int size);

        /** A call of {@link #embed} finished (all its inputs embedded, or failed) {@code nanos} after it was made. */
        default void request(int inputs, long nanos) {}
    }

    private record Item(int[] ids, CompletableFuture<float[]> result) {}

    private final EmbeddingModel model;
    private final int maxBatchSize;
    private final long maxDelayNanos;
    private final Listener listener;
    private final BlockingQueue<Item> queue = new LinkedBlockingQueue<>();
    private final Thread thread;
    private volatile boolean closed;

    public EmbeddingBatcher(EmbeddingModel model, BatchLimits limits, Listener listener) {
        this.model = model;
        this.maxBatchSize = limits.maxBatchSize();
        this.maxDelayNanos = limits.maxDelay().toNanos();
        this.listener = listener;
        this.thread = Thread.ofPlatform().daemon().name("embed-" + model.name()).start(this::run);
    }

    public EmbeddingModel model() {
        return model;
    }

    /** Embeds already-tokenized inputs; they may be batched with other callers' inputs. */
    public CompletableFuture<List<float[]>> embed(List<int[]> inputs) {
        if (closed) {
            return CompletableFuture.failedFuture(unloaded());
        }
        long start = System.nanoTime();
        List<CompletableFuture<float[]>> parts = new ArrayList<>(inputs.size());
        for (int[] ids : inputs) {
            CompletableFuture<float[]> f = new CompletableFuture<>();
            parts.add(f);
            queue.add(new Item(ids, f));
        }
        if (closed) { // closed while enqueuing: the worker may have gone, so nobody else would fail these
            failQueued();
        }
        return CompletableFuture.allOf(parts.toArray(CompletableFuture[]::new))
                .whenComplete((v, e) -> listener.request(inputs.size(), System.nanoTime() - start))
                .thenApply(v -> parts.stream().map(CompletableFuture::join).toList());
    }

    private void run() {
        List<Item> batch = new ArrayList<>(maxBatchSize);
        while (!closed) {
            try {
                Item first = queue.poll(100, TimeUnit.MILLISECONDS);
                if (first == null) {
                    continue;
                }
                batch.add(first);
                long deadline = System.nanoTime() + maxDelayNanos;
                while (batch.size() < maxBatchSize) {
                    long left = deadline - System.nanoTime();
                    Item next = left > 0 ? queue.poll(left, TimeUnit.NANOSECONDS) : queue.poll();
                    if (next == null) {
                        break;
                    }
                    batch.add(next);
                }
                runBatch(batch);
            } catch (InterruptedException e) { // closed while gathering a batch: it will not run
                batch.forEach(item -> item.result().completeExceptionally(unloaded()));
                break;
            } finally {
                batch.clear();
            }
        }
        failQueued();
    }

    /** Fails what is still queued; after {@link #close}, whoever polls an item first fails it. */
    private void failQueued() {
        Item left;
        while ((left = queue.poll()) != null) {
            left.result().completeExceptionally(unloaded());
        }
    }

    private IllegalStateException unloaded() {
        return new IllegalStateException("embedding model " + model.name() + " was unloaded");
    }

    private void runBatch(List<Item> batch) {
        try {
            float[][] out = model.embed(batch.stream().map(Item::ids).toList());
            listener.batch(batch.size());
            for (int i = 0; i < batch.size(); i++) {
                batch.get(i).result().complete(out[i]);
            }
        } catch (RuntimeException e) {
            batch.forEach(item -> item.result().completeExceptionally(e));
        }
    }

    @Override
    public void close() {
        closed = true;
        thread.interrupt();
        try {
            thread.join(5000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        failQueued(); // in case the worker is still busy past the join
    }
}
