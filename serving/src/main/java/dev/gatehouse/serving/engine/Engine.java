package dev.gatehouse.serving.engine;

import ai.djl.ndarray.NDManager;
import dev.gatehouse.serving.arch.KvCache;
import dev.gatehouse.serving.arch.StepBatch;
import dev.gatehouse.serving.load.ModelConfig;
import dev.gatehouse.serving.sample.SampledToken;
import dev.gatehouse.serving.sample.SamplingParams;
import io.micrometer.core.instrument.MeterRegistry;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
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
 *
 * <p>Failures: an exception in one sequence's own work (sampling, detokenising, stop matching)
 * fails that sequence only; an exception in a forward pass fails the sequences of that pass, whose
 * KV entries it may have half written; anything else fails every running sequence. Either way the
 * failed sequences' slots are free again and the engine goes on with the next step.
 */
public final class Engine implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(Engine.class.getName());

    private final LocalModel model;
    private final EngineConfig config;
    private final int maxModelLength;
    private final long kvBytesPerToken;
    private final KvCache cache;
    private final KvSlots slots;
    private final StepFaults faults;
    private final EngineMetrics metrics;
    private final Thread thread;

    private final ConcurrentLinkedQueue<Request> waiting = new ConcurrentLinkedQueue<>();
    private final AtomicLong ids = new AtomicLong();
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition work = lock.newCondition();
    private boolean wakeRequested; // guarded by lock
    private volatile boolean accepting = true;
    private volatile boolean stopped;

    // Engine thread only.
    private final List<Request> running = new ArrayList<>();
    // Recent speeds, for the wait estimate: a forward pass costs about one decode step, plus this much per prompt token.
    private double decodeNanosAverage;
    private double prefillNanosPerToken;

    // What other threads read, replaced whole so that its figures always agree with each other: submitters
    // count a request in, the engine thread moves it to running (one swap) and publishes slots and the estimate.
    private final AtomicReference<Capacity> capacity;

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

    private Engine(LocalModel model, EngineConfig config, MeterRegistry registry, StepFaults faults) {
        this.model = model;
        this.config = config = config.kvCacheBytes() > 0 ? config : config.withKvCacheBytes(defaultKvBytes(model));
        this.faults = faults;
        ModelConfig mc = model.config();
        this.kvBytesPerToken = KvCache.bytesPerToken(mc.numLayers(), mc.numKvHeads(), mc.headDim(), model.lm().dtype());
        this.maxModelLength = modelLength(config, mc.maxPositions(), kvBytesPerToken);
        this.cache = newCache(model, config.maxRunning(), maxModelLength, kvBytesPerToken);
        this.slots = new KvSlots(config.maxRunning());
        this.capacity = new AtomicReference<>(snapshot(0, 0, slots.free(), 0));
        this.metrics = new EngineMetrics(registry, model.name(), this::capacity);
        this.thread = Thread.ofPlatform().name("engine-" + model.name()).daemon().unstarted(this::loop);
    }

    /** Starts an engine thread for a loaded model; the KV cache is allocated here. */
    public static Engine start(LocalModel model, EngineConfig config, MeterRegistry registry) {
        return start(model, config, registry, StepFaults.NONE);
    }

    /** As {@link #start(LocalModel, EngineConfig, MeterRegistry)}, with faults injected by a test. */
    static Engine start(LocalModel model, EngineConfig config, MeterRegistry registry, StepFaults faults) {
        Engine engine = new Engine(model, config, registry, faults);
        engine.thread.start();
        return engine;
    }

    /** kv-cache-mb unset: 1 GiB on the CPU, on a GPU a share of what is free after the weights ({@link KvBudget}). */
    private static long defaultKvBytes(LocalModel model) {
        if (!model.device().isGpu()) {
            return KvBudget.CPU_DEFAULT;
        }
        OptionalLong free = GpuMemory.free(model.device());
        if (free.isEmpty()) {
            LOG.warning("cannot read the free memory of " + model.deviceName() + ": KV cache for " + model.name()
                    + " sized " + (KvBudget.CPU_DEFAULT >> 20) + " MiB; set kv-cache-mb to size it");
            return KvBudget.CPU_DEFAULT;
        }
        long budget = KvBudget.fromFreeGpuMemory(free.getAsLong());
        LOG.info("KV cache budget for " + model.name() + ": " + (budget >> 20) + " MiB of " + (free.getAsLong() >> 20)
                + " MiB free on " + model.deviceName());
        return budget;
    }

    /** The KV cache, or a clear error when the device has no room for it (the caller then frees the model). */
    private static KvCache newCache(LocalModel model, int slots, int length, long bytesPerToken) {
        try {
            return model.lm().newCache(slots, length);
        } catch (RuntimeException e) {
            if (!GpuMemory.isOutOfMemory(e)) {
                throw e;
            }
            throw new IllegalStateException("out of " + model.deviceName() + " memory allocating the KV cache of " + model.name()
                    + " (" + ((long) slots * length * bytesPerToken >> 20) + " MiB for " + slots + " x " + length
                    + " positions); lower kv-cache-mb, max-running or max-model-length", e);
        }
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
        Capacity queued = capacity.getAndUpdate(c -> c.queueFull() ? c : withWaiting(c, c.waiting() + 1));
        if (queued.queueFull()) {
            throw new CapacityException(model.name() + " has " + config.maxWaiting() + " requests waiting already");
        }
        RequestHandle handle = new RequestHandle(ids.incrementAndGet(), this::wake, config.maxPendingEvents());
        waiting.add(new Request(new Sequence(prompt, params, model, maxModelLength), handle));
        wake();
        return handle;
    }

    /** A consistent snapshot for the router and the metrics; KV memory counts whole reserved slots. */
    public Capacity capacity() {
        return capacity.get();
    }

    private Capacity snapshot(int running, int waiting, int freeSlots, long estimatedWaitMillis) {
        long slotBytes = (long) maxModelLength * kvBytesPerToken;
        return new Capacity(running, waiting, config.maxRunning(), config.maxWaiting(), freeSlots,
                (long) (config.maxRunning() - freeSlots) * slotBytes, (long) config.maxRunning() * slotBytes, estimatedWaitMillis);
    }

    private Capacity withWaiting(Capacity c, int waiting) {
        return snapshot(c.running(), waiting, c.freeSlots(), c.estimatedWaitMillis());
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
            } catch (RuntimeException | Error e) { // not one sequence's nor one pass's: fail them all, keep serving
                LOG.log(Level.SEVERE, "engine step failed for " + model.name(), e);
                fail(List.copyOf(running), "engine error: " + e.getMessage());
            }
            publish();
            if (!worked) {
                awaitWork();
            }
        }
        fail(List.copyOf(running), "engine stopped");
        for (Request r; (r = waiting.poll()) != null; ) {
            capacity.updateAndGet(c -> withWaiting(c, c.waiting() - 1));
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
                capacity.updateAndGet(c -> withWaiting(c, c.waiting() - 1));
                r.handle.emit(new EngineEvent.Failed("cancelled", true));
                return true;
            }
            return false;
        });
    }

    private void admit() {
        while (slots.free() > 0) {
            Request r = waiting.poll();
            if (r == null) {
                return;
            }
            r.seq.slot = slots.take();
            r.admitted = System.nanoTime();
            metrics.queued(r.admitted - r.submitted);
            running.add(r);
            publishSlots(1); // the request leaves "waiting" and shows as "running" with its slot taken, in one snapshot
        }
    }

    /** One iteration: a batched decode of every ready sequence, then prompt chunks within the token budget. */
    private boolean step() {
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
            long start = System.nanoTime();
            decode(decoding);
            decodeNanosAverage = average(decodeNanosAverage, System.nanoTime() - start);
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
        return !decoding.isEmpty() || prefilled > 0;
    }

    /** A moving average of the recent samples (each pass is timed on its own, so mixed steps count too). */
    private static double average(double average, double sample) {
        return average == 0 ? sample : 0.9 * average + 0.1 * sample;
    }

    private void decode(List<Request> batch) {
        int n = batch.size();
        int[] tokens = new int[n];
        int[] starts = new int[n];
        int[] slots = new int[n];
        int[] needs = new int[n];
        for (int b = 0; b < n; b++) {
            Sequence s = batch.get(b).seq;
            tokens[b] = s.nextInput;
            starts[b] = s.cached;
            slots[b] = s.slot;
            needs[b] = s.sampler.candidatesNeeded();
        }
        LogitsReadback.Row[] rows = forward(new StepBatch(tokens, n, 1, starts, slots), batch, needs);
        if (rows == null) {
            return;
        }
        for (int b = 0; b < n; b++) {
            Request r = batch.get(b);
            r.seq.cached++;
            nextToken(r, rows[b]);
        }
    }

    private void prefillChunks(List<Request> group, int length) {
        int n = group.size();
        int[] tokens = new int[n * length];
        int[] starts = new int[n];
        int[] slots = new int[n];
        int[] needs = new int[n];
        for (int b = 0; b < n; b++) {
            Sequence s = group.get(b).seq;
            System.arraycopy(s.prompt, s.cached, tokens, b * length, length);
            starts[b] = s.cached;
            slots[b] = s.slot;
            needs[b] = s.cached + length == s.prompt.length ? s.sampler.candidatesNeeded() : LogitsReadback.NONE;
        }
        long start = System.nanoTime();
        LogitsReadback.Row[] rows = forward(new StepBatch(tokens, n, length, starts, slots), group, needs);
        if (rows == null) {
            return;
        }
        if (decodeNanosAverage > 0) { // what the pass cost beyond a decode step, per prompt token
            double beyondStep = Math.max(0, System.nanoTime() - start - decodeNanosAverage);
            prefillNanosPerToken = average(prefillNanosPerToken, beyondStep / (n * length));
        }
        for (int b = 0; b < n; b++) {
            Request r = group.get(b);
            r.seq.cached += length;
            if (r.seq.prefilled()) {
                nextToken(r, rows[b]);
            }
        }
    }

    /**
     * One forward pass for {@code requests}, its logits read back as far as {@code needs} says
     * ({@link LogitsReadback}); on failure they fail (their KV entries may be half written) and it returns null.
     */
    private LogitsReadback.Row[] forward(StepBatch batch, List<Request> requests, int[] needs) {
        try (NDManager step = model.newStepManager()) {
            faults.beforeForward(batch);
            for (int b = 0; b < batch.batchSize(); b++) {
                if (batch.starts()[b] == 0) { // a sequence's first chunk: forget what the slot's last owner left
                    cache.clear(batch.slots()[b]);
                }
            }
            return LogitsReadback.read(model.lm().forward(batch, cache, step), needs);
        } catch (RuntimeException e) {
            if (GpuMemory.isOutOfMemory(e)) { // only this pass's sequences fail; the cached blocks go back to the device
                GpuMemory.release();
                LOG.warning("out of memory in a forward pass of " + model.name() + " (" + requests.size() + " sequences, "
                        + batch.tokensPerSeq() + " tokens each): " + GpuMemory.firstLine(e));
                fail(requests, "engine error: out of " + model.deviceName() + " memory in the model's forward pass ("
                        + requests.size() + " sequences); retry, or lower max-running or step-token-budget");
                return null;
            }
            LOG.log(Level.SEVERE, "forward pass failed for " + model.name() + " (" + requests.size() + " sequences)", e);
            fail(requests, "engine error: the model's forward pass failed: " + e.getMessage());
            return null;
        }
    }

    /** Samples one sequence's token from its row of the logits; a failure here is that sequence's alone. */
    private void nextToken(Request r, LogitsReadback.Row row) {
        try {
            faults.beforeToken(r.seq);
            sampled(r, row.sample(r.seq.sampler));
        } catch (RuntimeException e) {
            LOG.log(Level.SEVERE, "request " + r.handle.id() + " failed on " + model.name(), e);
            fail(List.of(r), "engine error: generating the next token failed: " + e.getMessage());
        }
    }

    private void sampled(Request r, SampledToken token) {
        Sequence.Outcome outcome = r.seq.accept(token);
        long now = System.nanoTime();
        metrics.token(r.lastToken == 0 ? 0 : now - r.lastToken);
        if (r.firstToken == 0) {
            r.firstToken = now;
            metrics.firstToken(now - r.submitted);
        }
        r.lastToken = now;
        r.handle.emit(new EngineEvent.Token(outcome.text(), token));
        if (outcome.finish() != null) {
            running.remove(r);
            release(r);
            int generated = r.seq.generatedCount();
            RequestTimings timings = new RequestTimings(r.admitted - r.submitted, r.firstToken - r.submitted,
                    generated < 2 ? 0 : (r.lastToken - r.firstToken) / (generated - 1), now - r.submitted);
            metrics.finished(r.seq.prompt.length, timings.endToEndNanos());
            r.handle.emit(new EngineEvent.Finished(outcome.finish(),
                    new EngineEvent.Usage(r.seq.prompt.length, generated), timings, r.seq.stopSequence()));
        }
    }

    /** Frees a sequence's slot; it has left {@code running} already, so the snapshot shows both at once. */
    private void release(Request r) {
        slots.release(r.seq.slot);
        r.seq.slot = -1;
        publishSlots(0);
    }

    /** Ends running requests with an error: they leave the batch and their slots are free again. */
    private void fail(List<Request> requests, String message) {
        for (Request r : requests) {
            if (running.remove(r)) {
                release(r);
                r.handle.emit(new EngineEvent.Failed(message, false));
            }
        }
    }

    /** Publishes the running sequences and free slots as they are now, with {@code leftQueue} fewer waiting. */
    private void publishSlots(int leftQueue) {
        int runningNow = running.size();
        int free = slots.free();
        capacity.updateAndGet(c -> snapshot(runningNow, c.waiting() - leftQueue, free, c.estimatedWaitMillis()));
    }

    /** Publishes the capacity figures and the wait estimate after a step. */
    private void publish() {
        int runningNow = running.size();
        int free = slots.free();
        long estimateMillis = estimateWaitNanos() / 1_000_000;
        capacity.updateAndGet(c -> snapshot(runningNow, c.waiting(), free, estimateMillis));
    }

    /** See {@link WaitEstimate}: the queue played forward at the measured decode and prefill speeds. */
    private long estimateWaitNanos() {
        long promptTokensAhead = 0;
        int prefillPassesAhead = 0;
        int[] remaining = new int[running.size()];
        for (int i = 0; i < remaining.length; i++) {
            Sequence s = running.get(i).seq;
            remaining[i] = s.limit - s.generatedCount();
            int unprefilled = s.prompt.length - Math.min(s.cached, s.prompt.length);
            promptTokensAhead += unprefilled;
            prefillPassesAhead += chunks(unprefilled);
        }
        List<Request> queued = new ArrayList<>(waiting);
        int[] queuedLimits = new int[queued.size()];
        for (int i = 0; i < queuedLimits.length; i++) {
            Sequence s = queued.get(i).seq;
            queuedLimits[i] = s.limit;
            promptTokensAhead += s.prompt.length;
            prefillPassesAhead += chunks(s.prompt.length);
        }
        return WaitEstimate.nanos(slots.free(), remaining, queuedLimits, prefillPassesAhead, promptTokensAhead,
                decodeNanosAverage, prefillNanosPerToken);
    }

    /** Forward passes that prefill {@code promptTokens} take, one chunk of at most the step budget each. */
    private int chunks(int promptTokens) {
        return (promptTokens + config.stepTokenBudget() - 1) / config.stepTokenBudget();
    }

    /** Stops accepting requests; running and waiting ones go on to completion. */
    public void shutdown() {
        accepting = false;
    }

    /** Waits up to {@code timeout} for queued work to finish; true if it did. */
    public boolean awaitIdle(long timeout, TimeUnit unit) throws InterruptedException {
        long deadline = System.nanoTime() + unit.toNanos(timeout);
        for (Capacity c = capacity.get(); c.running() > 0 || c.waiting() > 0; c = capacity.get()) {
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
