package dev.gatehouse.gateway.route;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.gatehouse.gateway.backend.Backend;
import dev.gatehouse.gateway.backend.Capabilities;
import dev.gatehouse.gateway.backend.FinishedStream;
import dev.gatehouse.gateway.backend.local.LocalModels;
import dev.gatehouse.gateway.chat.ApiException;
import dev.gatehouse.gateway.chat.ChatEvent;
import dev.gatehouse.gateway.chat.FinishReason;
import dev.gatehouse.gateway.chat.ChatRequest;
import dev.gatehouse.gateway.chat.ChatStream;
import dev.gatehouse.gateway.config.ModelRoute;
import dev.gatehouse.gateway.config.ProviderConfig;
import dev.gatehouse.gateway.server.GatewayServer;
import dev.gatehouse.gateway.chat.Message;
import java.util.ArrayDeque;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * A half-open breaker lets one trial through; however that trial ends — an answer, a failure, a
 * refusal before the provider was asked, an exception of any kind — the next request may try again.
 * A trial that never let go would leave the provider skipped forever.
 */
class HalfOpenTrialTest {
    static final ChatRequest REQUEST = new ChatRequest("p/m", List.of(new Message("user", "hi")), null, 5,
            new ChatRequest.Sampling(1f, 1f, 0, 0f, 1f, 0f, 0f, null, List.of(), false, 0), 1, false, false, false, null);

    /** A provider that answers as its script says, one step per request, then answers "ok". */
    static final class Scripted implements Backend {
        interface Step {
            ChatStream open() throws InterruptedException;
        }

        final Queue<Step> steps = new ArrayDeque<>();
        int opened;

        @Override
        public Capabilities capabilities() {
            return Capabilities.TEXT;
        }

        @Override
        public ChatStream open(ChatRequest request) {
            opened++;
            Step step = steps.poll();
            if (step == null) {
                return new FinishedStream(List.of(new ChatEvent.Delta(0, "ok", null), new ChatEvent.Finish(0, FinishReason.STOP)));
            }
            try {
                return step.open();
            } catch (InterruptedException e) {
                throw new AssertionError(e);
            }
        }
    }

    /** One provider, whose breaker opens on one failure and is half-open again at once (cooldown 0). */
    static Router router(Scripted provider) {
        return new Router(List.of(), Map.of(), new LocalModels(), Map.of("p", provider),
                Map.of("p", new ProviderConfig.Failures(0, 1, 0)), new SplittableRandom(1), GatewayServer.newRegistry());
    }

    static void failOnce(Router router, Scripted provider) {
        provider.steps.add(() -> {
            throw new ApiException(500, "server_error", null, null, "down", null);
        });
        assertEquals(500, assertThrows(ApiException.class, () -> RouteTestGateway.open(router, REQUEST)).status());
    }

    static void answersAgain(Router router, Scripted provider) throws InterruptedException {
        int before = provider.opened;
        Routed routed = RouteTestGateway.open(router, REQUEST);
        routed.stream().close();
        assertEquals("p:m", routed.backend());
        assertEquals(before + 1, provider.opened, "the provider was tried, not skipped as circuit open");
    }

    @Test
    void trialThatThrowsSomethingElseLetsGo() throws Exception {
        Scripted provider = new Scripted();
        Router router = router(provider);
        failOnce(router, provider);

        provider.steps.add(() -> {
            throw new IllegalStateException("a bug in a translator");
        });
        assertThrows(IllegalStateException.class, () -> RouteTestGateway.open(router, REQUEST));

        answersAgain(router, provider);
    }

    @Test
    void trialInterruptedWhileWaitingForTheFirstEventLetsGo() throws Exception {
        Scripted provider = new Scripted();
        Router router = router(provider);
        failOnce(router, provider);

        provider.steps.add(() -> new ChatStream() {
            @Override
            public ChatEvent next() throws InterruptedException {
                throw new InterruptedException("the client went away");
            }

            @Override
            public void close() {}
        });
        assertThrows(InterruptedException.class, () -> RouteTestGateway.open(router, REQUEST));

        answersAgain(router, provider);
    }

    @Test
    void trialRefusedBeforeTheProviderWasAskedLetsGo() throws Exception {
        Scripted provider = new Scripted();
        Router router = router(provider);
        failOnce(router, provider);

        provider.steps.add(() -> {
            throw ApiException.unsupported("seed", "This model's provider does not support seed.");
        });
        ApiException refused = assertThrows(ApiException.class, () -> RouteTestGateway.open(router, REQUEST));
        assertEquals("seed", refused.param());

        answersAgain(router, provider);
    }

    @Test
    void trialThatFailsReopensAndOneThatAnswersCloses() throws Exception {
        Scripted provider = new Scripted();
        Router router = router(provider);
        failOnce(router, provider);
        failOnce(router, provider); // the trial failed: reopened, half-open again after the (zero) cooldown

        answersAgain(router, provider);
        answersAgain(router, provider);
    }
}
