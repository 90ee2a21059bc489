package dev.gatehouse.serving.engine;

import ai.djl.ndarray.NDManager;
import dev.gatehouse.serving.arch.KvCache;
import dev.gatehouse.serving.arch.StepBatch;
import dev.gatehouse.serving.load.ModelConfig;
import dev.gatehouse.serving.sample.SampledToken;
import dev.gatehouse.serving.sample.SamplingParams;
import io.micrometer.core.instrument.MeterRegistry;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Continuous (iteration-level) batching for one model, on its own thread. Each step:
 * <ol>
 *   <li>drops cancelled requests and admits waiting ones into free KV slots;</li>
 *   <li>decodes one token for every running sequence in a single batched forward pass;</li>
 *   <li>spends what is left of the step's token budget on prompt chunks of admitted sequences.</li>
 * </ol>
 * A finished, failed or cancelled sequence leaves the batch and frees its slot in the same step.
 * Each slot holds a whole sequence of up to {@link #maxModelLength()} positions, so memory can never
 * run out mid-generation: the KV budget is spent at start, and admission is by free slot.
 */
public final class Engine implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(Engine.class.getName());

    private final LocalModel model;
    private final EngineConfig config;
    private final int maxModelLength;
    private final long kvBytesPerToken;
    private final KvCache cache;
    private final EngineMetrics metrics;
    private final Thread thread;

    private final ConcurrentLinkedQueue<Request> waiting = new ConcurrentLinkedQueue<>();
    private final AtomicInteger waitingCount = new AtomicInteger();
    private final AtomicLong ids = new AtomicLong();
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition work = lock.newCondition();
    private boolean wakeRequested; // guarded by lock
    private volatile boolean accepting = true;
    private volatile boolean stopped;

    // Engine thread only.
    private final List<Request> running = new ArrayList<>();
    private final ArrayDeque<Integer> freeSlots = new ArrayDeque<>();
    private double stepNanosAverage;
    private double prefillNanosPerToken;

    // Published for other threads after each step.
    private volatile int runningCount;
    private volatile long kvTokensUsed;
    private volatile long estimatedWaitMillis;

    private static final class Request {
        final Sequence seq;
        final RequestHandle handle;
        final long submitted = System.nanoTime();
        long admitted;
        long firstToken;
        long lastToken;

        Request(Sequence seq, RequestHandle handle) {
            this.seq = seq;
            this.handle = handle;
        }
    }

    private Engine(LocalModel model, EngineConfig config, MeterRegistry registry) {
        this.model = model;
        this.config = config;
        ModelConfig mc = model.config();
        this.kvBytesPerToken = KvCache.bytesPerToken(mc.numLayers(), mc.numKvHeads(), mc.headDim(), model.lm().dtype());
        this.maxModelLength = modelLength(config, mc.maxPositions(), kvBytesPerToken);
        this.cache = model.lm().newCache(config.maxRunning(), maxModelLength);
        for (int s = 0; s < config.maxRunning(); s++) {
            freeSlots.add(s);
        }
        this.metrics = new EngineMetrics(registry, model.name(), this::capacity);
        this.thread = Thread.ofPlatform().name("engine-" + model.name()).daemon().unstarted(this::loop);
    }

    /** Starts an engine thread for a loaded model; the KV cache is allocated here. */
    public static Engine start(LocalModel model, EngineConfig config, MeterRegistry registry) {
        Engine engine = new Engine(model, config, registry);
        engine.thread.start();
        return engine;
    }

    /** Positions per slot: the configured length, else the model's, capped so all slots fit the KV budget. */
    static int modelLength(EngineConfig config, int modelMax, long bytesPerToken) {
        long fitting = config.kvCacheBytes() / ((long) config.maxRunning() * bytesPerToken);
        if (config.maxModelLength() > 0) {
            int wanted = Math.min(config.maxModelLength(), modelMax);
            if (wanted > fitting) {
                throw new IllegalArgumentException("max-model-length " + wanted + " for max-running " + config.maxRunning()
                        + " needs " + (wanted * config.maxRunning() * bytesPerToken >> 20) + " MiB of KV cache; kv-cache-bytes allows "
                        + (config.kvCacheBytes() >> 20) + " MiB");
            }
            return wanted;
        }
        if (fitting < 2) {
            throw new IllegalArgumentException("kv-cache-bytes " + config.kvCacheBytes() + " cannot hold "
                    + config.maxRunning() + " sequences of this model (" + bytesPerToken + " bytes per token each)");
        }
        return (int) Math.min(modelMax, fitting);
    }

    public LocalModel model() {
        return model;
    }

    /** Longest sequence (prompt + generated) this engine serves. */
    public int maxModelLength() {
        return maxModelLength;
    }

    /**
     * Queues a request. Refuses at once with {@link CapacityException} when the waiting queue is
     * full, and with IllegalArgumentException naming the parameter for bad input.
     */
    public RequestHandle submit(int[] prompt, SamplingParams params) {
        Sequence.validate(prompt, params, model, maxModelLength);
        if (!accepting) {
            throw new IllegalStateException("engine for " + model.name() + " is shutting down");
        }
        if (waitingCount.incrementAndGet() > config.maxWaiting()) {
            waitingCount.decrementAndGet();
            throw new CapacityException(model.name() + " has " + config.maxWaiting() + " requests waiting already");
        }
        RequestHandle handle = new RequestHandle(ids.incrementAndGet(), this::wake, config.maxPendingEvents());
        waiting.add(new Request(new Sequence(prompt, params, model, maxModelLength), handle));
        wake();
        return handle;
    }

    /** A cheap snapshot for the router and the metrics. */
    public Capacity capacity() {
        long total = (long) config.maxRunning() * maxModelLength * kvBytesPerToken;
        return new Capacity(runningCount, waitingCount.get(), config.maxRunning(), config.maxWaiting(),
                kvTokensUsed * kvBytesPerToken, total, estimatedWaitMillis);
    }

    private void wake() {
        lock.lock();
        try {
            wakeRequested = true;
            work.signal();
        } finally {
            lock.unlock();
        }
    }

    private void loop() {
        while (!stopped) {
            boolean worked = false;
            try {
                reapCancelled();
                admit();
                worked = step();
            } catch (RuntimeException | Error e) { // a failed step must not take the engine down
                LOG.log(Level.SEVERE, "engine step failed for " + model.name(), e);
                failAll(running, "engine error: " + e.getMessage());
            }
            publish();
            if (!worked) {
                awaitWork();
            }
        }
        failAll(running, "engine stopped");
        for (Request r; (r = waiting.poll()) != null; ) {
            waitingCount.decrementAndGet();
            r.handle.emit(new EngineEvent.Failed("engine stopped", false));
        }
        publish();
    }

    private void awaitWork() {
        lock.lock();
        try {
            // A sequence paused for backpressure resumes when its reader wakes us; the timeout covers a missed wake.
            if (!wakeRequested && !stopped) {
                work.await(running.isEmpty() ? 1000 : 5, TimeUnit.MILLISECONDS);
            }
            wakeRequested = false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            stopped = true;
        } finally {
            lock.unlock();
        }
    }

    private void reapCancelled() {
        for (Iterator<Request> it = running.iterator(); it.hasNext(); ) {
            Request r = it.next();
            if (r.handle.isCancelled()) {
                it.remove();
                release(r);
                r.handle.emit(new EngineEvent.Failed("cancelled", true));
            }
        }
        waiting.removeIf(r -> {
            if (r.handle.isCancelled()) {
                waitingCount.decrementAndGet();
                r.handle.emit(new EngineEvent.Failed("cancelled", true));
                return true;
            }
            return false;
        });
    }

    private void admit() {
        while (!freeSlots.isEmpty()) {
            Request r = waiting.poll();
            if (r == null) {
                return;
            }
            waitingCount.decrementAndGet();
            r.seq.slot = freeSlots.poll();
            r.admitted = System.nanoTime();
            running.add(r);
            runningCount = running.size(); // a request leaves "waiting" and shows as "running" at once
        }
    }

    /** One iteration: a batched decode of every ready sequence, then prompt chunks within the token budget. */
    private boolean step() {
        long start = System.nanoTime();
        List<Request> decoding = new ArrayList<>();
        for (Request r : running) {
            if (r.seq.prefilled()) {
                if (r.handle.pendingEvents() >= config.maxPendingEvents()) {
                    r.handle.pause();
                } else {
                    decoding.add(r);
                }
            }
        }
        if (!decoding.isEmpty()) {
            decode(decoding);
        }
        int budget = config.stepTokenBudget() - decoding.size();
        int prefilled = 0;
        // Prompt chunks in admission order within the budget; chunks of equal length share one forward pass.
        Map<Integer, List<Request>> chunksByLength = new LinkedHashMap<>();
        for (Request r : running) {
            if (budget <= 0) {
                break;
            }
            if (!r.seq.prefilled()) {
                int chunk = Math.min(budget, r.seq.prompt.length - r.seq.cached);
                chunksByLength.computeIfAbsent(chunk, k -> new ArrayList<>()).add(r);
                budget -= chunk;
                prefilled += chunk;
            }
        }
        chunksByLength.forEach((length, group) -> prefillChunks(group, length));
        metrics.step(decoding.size());
        long elapsed = System.nanoTime() - start;
        if (!decoding.isEmpty() && prefilled == 0) {
            stepNanosAverage = stepNanosAverage == 0 ? elapsed : 0.9 * stepNanosAverage + 0.1 * elapsed;
        } else if (prefilled > 0 && decoding.isEmpty()) {
            double perToken = (double) elapsed / prefilled;
            prefillNanosPerToken = prefillNanosPerToken == 0 ? perToken : 0.9 * prefillNanosPerToken + 0.1 * perToken;
        }
        return !decoding.isEmpty() || prefilled > 0;
    }

    private void decode(List<Request> batch) {
        int n = batch.size();
        int[] tokens = new int[n];
        int[] starts = new int[n];
        int[] slots = new int[n];
        for (int b = 0; b < n; b++) {
            Sequence s = batch.get(b).seq;
            tokens[b] = s.nextInput;
            starts[b] = s.cached;
            slots[b] = s.slot;
        }
        float[] logits = forward(new StepBatch(tokens, n, 1, starts, slots));
        int vocab = logits.length / n;
        for (int b = 0; b < n; b++) {
            Request r = batch.get(b);
            r.seq.cached++;
            sampled(r, r.seq.sampler.sample(Arrays.copyOfRange(logits, b * vocab, (b + 1) * vocab)));
        }
    }

    private void prefillChunks(List<Request> group, int length) {
        int n = group.size();
        int[] tokens = new int[n * length];
        int[] starts = new int[n];
        int[] slots = new int[n];
        for (int b = 0; b < n; b++) {
            Sequence s = group.get(b).seq;
            System.arraycopy(s.prompt, s.cached, tokens, b * length, length);
            starts[b] = s.cached;
            slots[b] = s.slot;
        }
        float[] logits = forward(new StepBatch(tokens, n, length, starts, slots));
        int vocab = logits.length / n;
        for (int b = 0; b < n; b++) {
            Request r = group.get(b);
            r.seq.cached += length;
            if (r.seq.prefilled()) {
                sampled(r, r.seq.sampler.sample(Arrays.copyOfRange(logits, b * vocab, (b + 1) * vocab)));
            }
        }
    }

    private float[] forward(StepBatch batch) {
        try (NDManager step = model.newStepManager()) {
            return model.lm().forward(batch, cache, step).toFloatArray();
        }
    }

    private void sampled(Request r, SampledToken token) {
        long now = System.nanoTime();
        metrics.token(r.lastToken == 0 ? 0 : now - r.lastToken);
        if (r.firstToken == 0) {
            r.firstToken = now;
        }
        r.lastToken = now;
        Sequence.Outcome outcome = r.seq.accept(token);
        r.handle.emit(new EngineEvent.Token(outcome.text(), token));
        if (outcome.finish() != null) {
            running.remove(r);
            release(r);
            int generated = r.seq.generatedCount();
            RequestTimings timings = new RequestTimings(r.admitted - r.submitted, r.firstToken - r.submitted,
                    generated < 2 ? 0 : (r.lastToken - r.firstToken) / (generated - 1), now - r.submitted);
            metrics.finished(r.seq.prompt.length, timings);
            r.handle.emit(new EngineEvent.Finished(outcome.finish(),
                    new EngineEvent.Usage(r.seq.prompt.length, generated), timings));
        }
    }

    private void release(Request r) {
        freeSlots.add(r.seq.slot);
        r.seq.slot = -1;
    }

    private void failAll(List<Request> requests, String message) {
        for (Request r : requests) {
            release(r);
            r.handle.emit(new EngineEvent.Failed(message, false));
        }
        requests.clear();
    }

    /** Publishes the capacity figures and the wait estimate (see {@link #estimateWaitNanos}). */
    private void publish() {
        long used = 0;
        for (Request r : running) {
            used += r.seq.cached;
        }
        kvTokensUsed = used;
        runningCount = running.size();
        estimatedWaitMillis = estimateWaitNanos() / 1_000_000;
    }

    /**
     * Wait of a request submitted now until its first token: with a free slot, the prompts queued
     * ahead of it; otherwise until enough running sequences reach their max_tokens (an upper bound,
     * as eos often comes sooner) to free a slot for it and those ahead, at the recent step time.
     */
    private long estimateWaitNanos() {
        double queuedPromptTokens = 0;
        for (Request r : running) {
            queuedPromptTokens += r.seq.prompt.length - Math.min(r.seq.cached, r.seq.prompt.length);
        }
        int ahead = waitingCount.get();
        for (Request r : waiting) {
            queuedPromptTokens += r.seq.prompt.length;
        }
        double wait = queuedPromptTokens * prefillNanosPerToken + stepNanosAverage;
        int free = freeSlots.size();
        if (ahead >= free && !running.isEmpty()) {
            int[] remaining = running.stream().mapToInt(r -> r.seq.limit - r.seq.generatedCount()).sorted().toArray();
            int needed = ahead - free; // slots that must free up before ours
            int rounds = needed / remaining.length;
            double average = Arrays.stream(remaining).average().orElse(0);
            wait += (rounds * average + remaining[needed % remaining.length]) * stepNanosAverage;
        }
        return (long) wait;
    }

    /** Stops accepting requests; running and waiting ones go on to completion. */
    public void shutdown() {
        accepting = false;
    }

    /** Waits up to {@code timeout} for queued work to finish; true if it did. */
    public boolean awaitIdle(long timeout, TimeUnit unit) throws InterruptedException {
        long deadline = System.nanoTime() + unit.toNanos(timeout);
        while (runningCount > 0 || waitingCount.get() > 0) {
            if (System.nanoTime() > deadline) {
                return false;
            }
            Thread.sleep(10);
        }
        return true;
    }

    /** Stops the thread; requests still in flight end with Failed("engine stopped"). Frees the KV cache. */
    @Override
    public void close() {
        accepting = false;
        stopped = true;
        wake();
        try {
            thread.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        cache.close();
    }
}
