package dev.gatehouse.gateway.cache;

import dev.gatehouse.gateway.chat.ChatEvent;
import dev.gatehouse.gateway.config.SemanticCacheConfig;

import java.util.List;
import java.util.function.LongSupplier;

/**
 * The semantic cache's answers in this instance's memory: a {@link VectorIndex} (exhaustive search) and
 * the answer stored in each of its slots, {@code max-entries} at most, the oldest overwritten beyond it.
 */
public final class InMemorySemanticAnswers implements SemanticAnswers {
    private record Entry(List<ChatEvent> answer, long storedAtNanos) {}

    private final SemanticCacheConfig config;
    private final LongSupplier nanoClock;
    private VectorIndex index; // guarded by this; created with the first vector's dimensions
    private Entry[] entries; // by slot, guarded by this

    public InMemorySemanticAnswers(SemanticCacheConfig config) {
        this(config, System::nanoTime);
    }

    /** With the clock given: tests move time forward to expire answers. */
    InMemorySemanticAnswers(SemanticCacheConfig config, LongSupplier nanoClock) {
        this.config = config;
        this.nanoClock = nanoClock;
    }

    @Override
    public synchronized Nearest nearest(float[] unit, long context, double threshold) {
        if (index == null || index.dimensions() != unit.length) {
            return null;
        }
        VectorIndex.Nearest nearest = index.nearest(unit, context);
        if (nearest.slot() < 0) {
            return null;
        }
        Entry e = entries[nearest.slot()];
        if (nanoClock.getAsLong() - e.storedAtNanos() >= config.ttl().toNanos()) {
            return null; // expired: as good as gone
        }
        return new Nearest(nearest.similarity(), nearest.similarity() >= threshold ? e.answer() : null);
    }

    @Override
    public synchronized void add(float[] unit, long context, List<ChatEvent> answer) {
        if (index == null || index.dimensions() != unit.length) { // the first vector, or another embedding model now
            index = new VectorIndex(unit.length, config.maxEntries());
            entries = new Entry[config.maxEntries()];
        }
        entries[index.add(unit, context)] = new Entry(answer, nanoClock.getAsLong());
    }
}
