package dev.gatehouse.serving.engine;

import ai.djl.ndarray.NDManager;
import dev.gatehouse.serving.arch.ForwardPass;
import dev.gatehouse.serving.arch.KvCache;
import dev.gatehouse.serving.arch.StepBatch;
import dev.gatehouse.serving.constrain.CompiledGrammar;
import dev.gatehouse.serving.load.ModelConfig;
import dev.gatehouse.serving.sample.SampledToken;
import dev.gatehouse.serving.sample.SamplingParams;
import io.micrometer.core.instrument.MeterRegistry;

import java.util.ArrayDeque;
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
import java.util.function.Predicate;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Continuous (iteration-level) batching for one model, on its own thread. Each step:
 * <ol>
 *   <li>drops cancelled requests and admits waiting ones while the batch has room and the KV cache
 *       has blocks for their prompts;</li>
 *   <li>spends the step's token budget, less one token per decoding sequence, on prompt chunks of
 *       admitted sequences, so a new request's first token is not held behind the others' decode;</li>
 *   <li>decodes one token for every running sequence whose prompt was cached before the step, in a
 *       single batched forward pass. Where that pass runs a layer at a time (the step in Java), requests
 *       that arrive meanwhile are admitted and prefilled between two of its layers, within the free
 *       blocks and the step's token budget: a newcomer's first token waits for a layer, not for the pass
 *       (at 16 streams a decode pass took longer than a short prompt's whole prefill).</li>
 * </ol>
 * A finished, failed or cancelled sequence leaves the batch and gives its KV blocks back in the same step.
 *
 * <p>KV memory on demand, as vLLM's paged attention: the cache is a pool of blocks
 * ({@link KvCache#BLOCK_SIZE} positions each) and a sequence takes one more each time it fills the
 * last, so the sequences running together are bounded by the tokens they hold, not by a whole
 * {@link #maxModelLength()} reserved per sequence. When a decoding sequence needs a block and none
 * is free, the most recently admitted sequence is preempted: it gives its blocks back, waits at the
 * head of the queue and, readmitted, recomputes its keys and values (prompt and tokens generated so
 * far) before decoding on; its client sees only a pause.
 *
 * <p>Prefix caching: the full blocks of every sequence are registered under a hash of all tokens up
 * to their end ({@link BlockHash}) and outlive it; a new request whose prompt starts with the same
 * blocks (a system prompt, few-shot examples, the earlier turns of a chat) holds those blocks too
 * and prefills only the rest. Unheld cached blocks are evicted least recently used when blocks run out.
 *
 * <p>Failures: an exception in one sequence's own work (sampling, detokenising, stop matching)
 * fails that sequence only; an exception in a forward pass fails the sequences of that pass, whose
 * KV entries it may have half written; anything else fails every running sequence. Either way the
 * failed sequences' blocks are free again and the engine goes on with the next step.
 */
public final class Engine implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(Engine.class.getName());

    private final LocalModel model;
    private final EngineConfig config;
    private final int maxModelLength;
    private final long kvBytesPerToken;
    private final KvCache cache;
    private final KvBlocks blocks;
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
    private final List<Request> running = new ArrayList<>(); // in admission order
    private final ArrayDeque<Request> preempted = new ArrayDeque<>(); // readmitted before anything waiting
    // Recent speeds, for the wait estimate: a forward pass costs about one decode step, plus this much per prompt token.
    private double decodeNanosAverage;
    private double prefillNanosPerToken;
    // Prompt tokens the decode pass under way has let in between its layers, and the time their passes took.
    private int promptTokensLetIn;
    private long letInNanos;

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
        int poolBlocks = poolBlocks(config, maxModelLength, kvBytesPerToken);
        this.cache = newCache(model, poolBlocks, kvBytesPerToken);
        this.blocks = new KvBlocks(poolBlocks, config.prefixCache());
        this.capacity = new AtomicReference<>(snapshot(0, 0, 0, 0));
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
    private static KvCache newCache(LocalModel model, int blocks, long bytesPerToken) {
        try {
            return model.lm().newCache(blocks);
        } catch (RuntimeException e) {
            if (!GpuMemory.isOutOfMemory(e)) {
                throw e;
            }
            throw new IllegalStateException("out of " + model.deviceName() + " memory allocating the KV cache of " + model.name()
                    + " (" + ((long) blocks * KvCache.BLOCK_SIZE * bytesPerToken >> 20) + " MiB for " + blocks + " blocks of "
                    + KvCache.BLOCK_SIZE + " positions); lower kv-cache-mb", e);
        }
    }

    /** Whole blocks the KV budget holds. */
    private static long budgetBlocks(EngineConfig config, long bytesPerToken) {
        return config.kvCacheBytes() / (bytesPerToken * KvCache.BLOCK_SIZE);
    }

    /**
     * Positions one sequence may reach: the configured length, else the model's, capped by what the
     * whole KV budget holds (one sequence may use all of it; many short ones share it).
     */
    static int modelLength(EngineConfig config, int modelMax, long bytesPerToken) {
        long fitting = budgetBlocks(config, bytesPerToken) * KvCache.BLOCK_SIZE;
        if (config.maxModelLength() > 0) {
            int wanted = Math.min(config.maxModelLength(), modelMax);
            if (wanted > fitting) {
                throw new IllegalArgumentException("max-model-length " + wanted + " needs "
                        + (Math.max(1, (long) wanted * bytesPerToken >> 20)) + " MiB of KV cache; kv-cache-bytes allows "
                        + (config.kvCacheBytes() >> 20) + " MiB");
            }
            return wanted;
        }
        if (fitting < KvCache.BLOCK_SIZE * 2L) {
            throw new IllegalArgumentException("kv-cache-bytes " + config.kvCacheBytes() + " cannot hold a sequence of this model ("
                    + bytesPerToken + " bytes per token)");
        }
        return (int) Math.min(modelMax, fitting);
    }

    /**
     * Blocks in the pool: the KV budget, but no more than max-running sequences of the longest length
     * can use (a budget far above that would be memory nothing reads, except as prefix cache).
     */
    static int poolBlocks(EngineConfig config, int modelLength, long bytesPerToken) {
        long usable = (long) config.maxRunning() * KvCache.blocksFor(modelLength);
        return (int) Math.min(Integer.MAX_VALUE / KvCache.BLOCK_SIZE - 1, Math.min(budgetBlocks(config, bytesPerToken), usable));
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
        return submit(prompt, params, null);
    }

    /**
     * As {@link #submit(int[], SamplingParams)}, with the answer held to {@code grammar} (compiled for this
     * model's {@link LocalModel#constraints()}); null for free text.
     */
    public RequestHandle submit(int[] prompt, SamplingParams params, CompiledGrammar grammar) {
        Sequence.validate(prompt, params, model, maxModelLength);
        if (!accepting) {
            throw new IllegalStateException("engine for " + model.name() + " is shutting down");
        }
        Capacity queued = capacity.getAndUpdate(c -> c.queueFull() ? c : withWaiting(c, c.waiting() + 1));
        if (queued.queueFull()) {
            throw new CapacityException(model.name() + " has " + config.maxWaiting() + " requests waiting already");
        }
        RequestHandle handle = new RequestHandle(ids.incrementAndGet(), this::wake, config.maxPendingEvents());
        waiting.add(new Request(new Sequence(prompt, params, grammar, model, maxModelLength), handle));
        wake();
        return handle;
    }

    /** A consistent snapshot for the router and the metrics; KV memory counts the blocks sequences hold. */
    public Capacity capacity() {
        return capacity.get();
    }

    /** The figures as they are now on the engine thread, with {@code waiting} and the estimate as given. */
    private Capacity snapshot(int running, int waiting, int heldBlocks, long estimatedWaitMillis) {
        long blockBytes = KvCache.BLOCK_SIZE * kvBytesPerToken;
        return new Capacity(running, waiting, config.maxRunning(), config.maxWaiting(), config.maxRunning() - running,
                heldBlocks * blockBytes, (long) cache.blocks() * blockBytes, blocks.cached(),
                estimatedWaitMillis);
    }

    private Capacity withWaiting(Capacity c, int waiting) {
        return new Capacity(c.running(), waiting, c.maxRunning(), c.maxWaiting(), c.freeSlots(), c.kvBytesUsed(),
                c.kvBytesTotal(), c.cachedBlocks(), c.estimatedWaitMillis());
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
        for (Request r; (r = preempted.poll()) != null || (r = waiting.poll()) != null; ) {
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
        Predicate<Request> cancelled = r -> {
            if (r.handle.isCancelled()) {
                capacity.updateAndGet(c -> withWaiting(c, c.waiting() - 1));
                r.handle.emit(new EngineEvent.Failed("cancelled", true));
                return true;
            }
            return false;
        };
        preempted.removeIf(cancelled);
        waiting.removeIf(cancelled);
    }

    /** Admits in arrival order (preempted sequences first) while the batch has room and the pool has blocks for the prompt. */
    private void admit() {
        while (running.size() < config.maxRunning()) {
            boolean resumed = !preempted.isEmpty();
            Request r = resumed ? preempted.peek() : waiting.peek();
            if (r == null || !takePrefillBlocks(r.seq)) {
                return; // the head waits for blocks; those behind it do not overtake it
            }
            if (resumed) {
                preempted.poll();
            } else {
                waiting.poll();
                r.admitted = System.nanoTime();
                metrics.queued(r.admitted - r.submitted);
                metrics.prefixLookup(r.seq.prompt.length, r.seq.cached);
            }
            running.add(r);
            publishSlots(1); // the request leaves "waiting" and shows as "running" with its blocks taken, in one snapshot
        }
    }

    /**
     * Gives a sequence the blocks its prefill writes: first the cached blocks of its prefix, then new
     * ones; false (holding none) when the pool cannot supply them now. The last prompt position is
     * always computed, even when cached, since its logits give the first token.
     */
    private boolean takePrefillBlocks(Sequence seq) {
        seq.prefillLength = seq.positionsToCompute();
        int[] tokens = seq.tokens();
        int reusable = (seq.generatedCount() == 0 ? seq.prefillLength - 1 : seq.prefillLength) / KvCache.BLOCK_SIZE;
        for (int i = 0; i < reusable; i++) {
            BlockHash hash = BlockHash.of(seq.lastHash(), tokens, i * KvCache.BLOCK_SIZE, KvCache.BLOCK_SIZE);
            int block = blocks.hit(hash, tokens, i * KvCache.BLOCK_SIZE, KvCache.BLOCK_SIZE);
            if (block < 0) {
                break;
            }
            seq.addBlock(block);
            seq.addHash(hash);
        }
        int needed = KvCache.blocksFor(seq.prefillLength) - seq.blockCount();
        if (needed > blocks.available()) {
            releaseBlocks(seq);
            return false;
        }
        seq.cached = seq.blockCount() * KvCache.BLOCK_SIZE;
        for (int i = 0; i < needed; i++) {
            seq.addBlock(blocks.allocate());
        }
        return true;
    }

    /**
     * Gives every sequence about to decode the block its next position falls in, preempting the most
     * recently admitted sequences while the pool has none left; returns those still to decode.
     */
    private List<Request> takeDecodeBlocks(List<Request> decoding) {
        List<Request> ready = new ArrayList<>();
        for (Request r : decoding) {
            if (!running.contains(r)) {
                continue; // preempted for an earlier sequence's block
            }
            while (r.seq.cached >= r.seq.blockCount() * KvCache.BLOCK_SIZE) {
                int block = blocks.allocate();
                if (block >= 0) {
                    r.seq.addBlock(block);
                } else {
                    preempt(running.get(running.size() - 1));
                    if (!running.contains(r)) {
                        break;
                    }
                }
            }
            if (running.contains(r)) {
                ready.add(r);
            }
        }
        return ready;
    }

    /** Takes a sequence's blocks back; it waits at the head of the queue and recomputes its keys and values when readmitted. */
    private void preempt(Request r) {
        running.remove(r);
        releaseBlocks(r.seq);
        preempted.addFirst(r);
        metrics.preempted();
        int runningNow = running.size();
        int held = blocks.held();
        capacity.updateAndGet(c -> snapshot(runningNow, c.waiting() + 1, held, c.estimatedWaitMillis()));
    }

    /** Last block first, so a cached prefix is evicted from its end: its start, which more prompts share, stays longest. */
    private void releaseBlocks(Sequence seq) {
        for (int i = seq.blockCount() - 1; i >= 0; i--) {
            blocks.release(seq.block(i));
        }
        seq.dropBlocks();
    }

    /** Registers the blocks the last pass filled in the prefix cache, each keyed on all tokens before its end. */
    private void registerFullBlocks(Sequence seq) {
        if (!config.prefixCache()) {
            return;
        }
        int[] tokens = seq.tokens();
        for (int i = seq.hashCount(); (i + 1) * KvCache.BLOCK_SIZE <= seq.cached; i++) {
            int from = i * KvCache.BLOCK_SIZE;
            BlockHash hash = BlockHash.of(seq.lastHash(), tokens, from, KvCache.BLOCK_SIZE);
            blocks.register(seq.block(i), hash, tokens, from, KvCache.BLOCK_SIZE);
            seq.addHash(hash);
        }
    }

    /** One iteration: prompt chunks within the token budget, then a batched decode of every ready sequence. */
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
        decoding = takeDecodeBlocks(decoding);
        int budget = config.stepTokenBudget() - decoding.size();
        int prefilled = 0;
        // Prompt chunks in admission order within the budget; chunks of equal length share one forward pass.
        Map<Integer, List<Request>> chunksByLength = new LinkedHashMap<>();
        for (Request r : running) {
            if (budget <= 0) {
                break;
            }
            if (!r.seq.prefilled()) {
                int chunk = Math.min(budget, r.seq.prefillLength - r.seq.cached);
                chunksByLength.computeIfAbsent(chunk, k -> new ArrayList<>()).add(r);
                budget -= chunk;
                prefilled += chunk;
            }
        }
        // Prompt chunks before the decode pass: a prompt that completes here gives its first token
        // without waiting for the others' next one (at 16 streams a decode pass is most of a one-client
        // time to first token), and the decoding streams get their tokens one prefill later, as they
        // would have in the next step anyway: the step takes as long in either order.
        chunksByLength.forEach((length, group) -> prefillChunks(group, length));
        if (!decoding.isEmpty()) {
            long start = System.nanoTime();
            promptTokensLetIn = 0;
            letInNanos = 0;
            decode(decoding);
            decodeNanosAverage = average(decodeNanosAverage, System.nanoTime() - start - letInNanos);
            prefilled += promptTokensLetIn;
        }
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
        int[][] tables = new int[n][];
        int[] needs = new int[n];
        for (int b = 0; b < n; b++) {
            Sequence s = batch.get(b).seq;
            tokens[b] = s.nextInput;
            starts[b] = s.cached;
            tables[b] = s.blockTable();
            needs[b] = s.candidatesNeeded();
        }
        LogitsReadback.Row[] rows = forward(new StepBatch(tokens, n, 1, starts, tables), batch, needs, true);
        if (rows == null) {
            return;
        }
        for (int b = 0; b < n; b++) {
            Request r = batch.get(b);
            r.seq.cached++;
            registerFullBlocks(r.seq);
            nextToken(r, rows[b]);
        }
    }

    private void prefillChunks(List<Request> group, int length) {
        int n = group.size();
        int[] tokens = new int[n * length];
        int[] starts = new int[n];
        int[][] tables = new int[n][];
        int[] needs = new int[n];
        for (int b = 0; b < n; b++) {
            Sequence s = group.get(b).seq;
            System.arraycopy(s.tokens(), s.cached, tokens, b * length, length);
            starts[b] = s.cached;
            tables[b] = s.blockTable();
            needs[b] = s.cached + length == s.prefillLength && firstPrefill(s) ? s.candidatesNeeded() : LogitsReadback.NONE;
        }
        long start = System.nanoTime();
        LogitsReadback.Row[] rows = forward(new StepBatch(tokens, n, length, starts, tables), group, needs, false);
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
            registerFullBlocks(r.seq);
            if (r.seq.prefilled() && firstPrefill(r.seq)) {
                nextToken(r, rows[b]);
            }
        }
    }

    /**
     * Between two layers of the decode pass under way: admits waiting requests and prefills them, up to
     * the step's token budget over the whole pass (a longer prompt goes on in the next steps). They
     * take only free blocks, and the pass's sequences are neither preempted nor touched; the streams
     * of the pass wait for their token as long as these prompts take, as they would for a prefill step.
     */
    private void letNewcomersIn() {
        int budget = config.stepTokenBudget() - promptTokensLetIn;
        if (budget <= 0) {
            return;
        }
        long start = System.nanoTime();
        int before = running.size();
        admit();
        Map<Integer, List<Request>> chunksByLength = new LinkedHashMap<>();
        for (Request r : List.copyOf(running.subList(before, running.size()))) {
            if (budget <= 0) {
                break;
            }
            int chunk = Math.min(budget, r.seq.prefillLength - r.seq.cached);
            chunksByLength.computeIfAbsent(chunk, k -> new ArrayList<>()).add(r);
            budget -= chunk;
            promptTokensLetIn += chunk;
        }
        chunksByLength.forEach((length, group) -> prefillChunks(group, length));
        letInNanos += System.nanoTime() - start;
    }

    /** Whether a sequence's prefill ends with its first token, rather than recomputing a preempted one's cache. */
    private static boolean firstPrefill(Sequence s) {
        return s.generatedCount() == 0;
    }

    /**
     * One forward pass for {@code requests}, its logits read back as far as {@code needs} says
     * ({@link LogitsReadback}); on failure they fail (their KV entries may be half written) and it returns null.
     * With {@code letNewcomersIn}, requests that arrive while it runs are admitted and prefilled between
     * its layers (where the model's pass pauses there: the step in Java), so their first token does not
     * wait for the whole pass.
     */
    private LogitsReadback.Row[] forward(StepBatch batch, List<Request> requests, int[] needs, boolean letNewcomersIn) {
        try (NDManager step = model.newStepManager()) {
            faults.beforeForward(batch);
            ForwardPass pass = model.lm().start(batch, cache, step);
            while (!pass.advance()) {
                faults.betweenLayers(batch);
                if (letNewcomersIn && !waiting.isEmpty()) {
                    letNewcomersIn();
                }
            }
            return LogitsReadback.read(pass.logits(), needs);
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
            sampled(r, r.seq.sample(row));
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

    /** Gives a sequence's blocks back; it has left {@code running} already, so the snapshot shows both at once. */
    private void release(Request r) {
        releaseBlocks(r.seq);
        publishSlots(0);
    }

    /** Ends running requests with an error: they leave the batch and their blocks are free again. */
    private void fail(List<Request> requests, String message) {
        for (Request r : requests) {
            if (running.remove(r)) {
                release(r);
                r.handle.emit(new EngineEvent.Failed(message, false));
            }
        }
    }

    /** Publishes the running sequences and held blocks as they are now, with {@code leftQueue} fewer waiting. */
    private void publishSlots(int leftQueue) {
        int runningNow = running.size();
        int held = blocks.held();
        capacity.updateAndGet(c -> snapshot(runningNow, c.waiting() - leftQueue, held, c.estimatedWaitMillis()));
    }

    /** Publishes the capacity figures and the wait estimate after a step. */
    private void publish() {
        int runningNow = running.size();
        int held = blocks.held();
        long estimateMillis = estimateWaitNanos() / 1_000_000;
        capacity.updateAndGet(c -> snapshot(runningNow, c.waiting(), held, estimateMillis));
    }

    /** See {@link WaitEstimate}: the queue played forward at the measured decode and prefill speeds. */
    private long estimateWaitNanos() {
        long promptTokensAhead = 0;
        int prefillPassesAhead = 0;
        int[] remaining = new int[running.size()];
        for (int i = 0; i < remaining.length; i++) {
            Sequence s = running.get(i).seq;
            remaining[i] = s.limit - s.generatedCount();
            int unprefilled = s.prefillLength - Math.min(s.cached, s.prefillLength);
            promptTokensAhead += unprefilled;
            prefillPassesAhead += chunks(unprefilled);
        }
        List<Request> queued = new ArrayList<>(preempted);
        queued.addAll(waiting);
        int[] queuedLimits = new int[queued.size()];
        for (int i = 0; i < queuedLimits.length; i++) {
            Sequence s = queued.get(i).seq;
            queuedLimits[i] = s.limit;
            promptTokensAhead += s.prompt.length;
            prefillPassesAhead += chunks(s.prompt.length);
        }
        int places = Math.min(config.maxRunning() - running.size(), placesTheFreeBlocksAdmit(queued));
        return WaitEstimate.nanos(places, remaining, queuedLimits, prefillPassesAhead, promptTokensAhead,
                decodeNanosAverage, prefillNanosPerToken);
    }

    /**
     * How many queued requests, in order, the KV blocks free now would admit (prefix hits not counted);
     * any number when all of them fit. The rest wait for running sequences to end, batch places or not.
     */
    private int placesTheFreeBlocksAdmit(List<Request> queued) {
        int free = blocks.available();
        for (int i = 0; i < queued.size(); i++) {
            free -= KvCache.blocksFor(queued.get(i).seq.positionsToCompute());
            if (free < 0) {
                return i;
            }
        }
        return Integer.MAX_VALUE;
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
        boolean interrupted = false;
        while (thread.isAlive()) { // the cache goes only once no step can touch it: Java reads its memory in place
            try {
                thread.join();
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
        cache.close();
    }
}
