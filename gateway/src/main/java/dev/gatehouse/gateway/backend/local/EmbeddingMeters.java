package dev.gatehouse.gateway.backend.local;

import dev.gatehouse.serving.embed.EmbeddingBatcher;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;

import java.util.concurrent.TimeUnit;

/**
 * One embedding model's meters, all tagged {@code model} (and removed with the model on unload):
 * requests and inputs embedded, each request's latency in the batcher (queueing and forward passes;
 * tokenizing and JSON excluded), and inputs per forward pass.
 */
final class EmbeddingMeters implements EmbeddingBatcher.Listener {
    private final Counter requests;
    private final Counter inputs;
    private final Timer latency;
    private final DistributionSummary batchSizes;

    EmbeddingMeters(String model, MeterRegistry registry) {
        requests = Counter.builder("gatehouse.embedding.requests").description("Embedding requests")
                .tag("model", model).register(registry);
        inputs = Counter.builder("gatehouse.embedding.inputs").description("Inputs (texts or token lists) embedded")
                .tag("model", model).register(registry);
        latency = Timer.builder("gatehouse.embedding.latency")
                .description("Time from an embedding request's inputs entering the batcher to its last vector")
                .tag("model", model).register(registry);
        batchSizes = DistributionSummary.builder("gatehouse.embedding.batch.size")
                .description("Inputs per embedding forward pass").tag("model", model).register(registry);
    }

    @Override
    public void batch(int size) {
        batchSizes.record(size);
    }

    @Override
    public void request(int inputCount, long nanos) {
        requests.increment();
        inputs.increment(inputCount);
        latency.record(nanos, TimeUnit.NANOSECONDS);
    }
}
