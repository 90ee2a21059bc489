package dev.gatehouse.serving.engine;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * The caller's side of one submitted request: its events in order, read at the caller's pace.
 * A caller that stops reading makes the engine pause that sequence (backpressure) rather than
 * buffer without bound; {@link #cancel()} frees its KV blocks within one step.
 */
public final class RequestHandle {
    private final long id;
    private final LinkedBlockingQueue<EngineEvent> events = new LinkedBlockingQueue<>();
    private final Runnable wakeEngine;
    private final int resumeBelow;
    private volatile boolean cancelled;
    private volatile boolean paused;

    RequestHandle(long id, Runnable wakeEngine, int maxPendingEvents) {
        this.id = id;
        this.wakeEngine = wakeEngine;
        this.resumeBelow = Math.max(1, maxPendingEvents / 2);
    }

    public long id() {
        return id;
    }

    /** The next event, waiting for it. */
    public EngineEvent next() throws InterruptedException {
        return afterRead(events.take());
    }

    /** The next event, or null if none came within the timeout. */
    public EngineEvent poll(long timeout, TimeUnit unit) throws InterruptedException {
        EngineEvent e = events.poll(timeout, unit);
        return e == null ? null : afterRead(e);
    }

    private EngineEvent afterRead(EngineEvent e) {
        if (paused && events.size() < resumeBelow) {
            paused = false;
            wakeEngine.run();
        }
        return e;
    }

    /** Stops the request; its stream ends with a cancelled {@link EngineEvent.Failed}. Idempotent. */
    public void cancel() {
        cancelled = true;
        wakeEngine.run();
    }

    public boolean isCancelled() {
        return cancelled;
    }

    /** Reads to the end and gathers the whole result (the non-streaming path). */
    public Completion collect() throws InterruptedException {
        StringBuilder text = new StringBuilder();
        List<EngineEvent.Token> tokens = new ArrayList<>();
        while (true) {
            switch (next()) {
                case EngineEvent.Token t -> {
                    text.append(t.text());
                    tokens.add(t);
                }
                case EngineEvent.Finished f -> {
                    return new Completion(text.toString(), tokens, f.reason(), f.usage(), f.timings());
                }
                case EngineEvent.Failed f -> throw new RequestFailedException(f.message(), f.cancelled());
            }
        }
    }

    /** A whole generation, as {@link #collect()} returns it. */
    public record Completion(String text, List<EngineEvent.Token> tokens, FinishReason finishReason,
                             EngineEvent.Usage usage, RequestTimings timings) {
        public int[] tokenIds() {
            return tokens.stream().mapToInt(t -> t.token().tokenId()).toArray();
        }
    }

    /** The request ended in {@link EngineEvent.Failed}. */
    public static final class RequestFailedException extends RuntimeException {
        private final boolean cancelled;

        public RequestFailedException(String message, boolean cancelled) {
            super(message);
            this.cancelled = cancelled;
        }

        public boolean cancelled() {
            return cancelled;
        }
    }

    // Engine side.

    void emit(EngineEvent e) {
        events.add(e);
    }

    int pendingEvents() {
        return events.size();
    }

    void pause() {
        paused = true;
    }

    boolean isPaused() {
        return paused;
    }
}
