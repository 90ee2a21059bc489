package dev.gatehouse.gateway.admin;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gatehouse.gateway.hub.FakeHub;
import dev.gatehouse.gateway.hub.HubClient;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.RejectedExecutionException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The background pulls of the admin API: how many finished ones are kept, and closing. */
class ModelPullsTest {
    @TempDir
    Path store;

    @Test
    void onlyTheNewestFinishedPullsAreKept() throws Exception {
        try (FakeHub hub = new FakeHub(); ModelPulls pulls = new ModelPulls(new HubClient(hub.url(), null), store)) {
            List<String> ids = new ArrayList<>();
            int started = ModelPulls.KEEP_FINISHED + 5;
            for (int i = 0; i < started; i++) { // no such repository: each fails at once
                ids.add(pulls.start("org/missing", "main", List.of(), List.of(), "m" + i).id);
                while (pulls.get(ids.getLast()).orElseThrow().active()) {
                    Thread.sleep(5);
                }
            }
            ids.add(pulls.start("org/missing", "main", List.of(), List.of(), "last").id);
            assertTrue(pulls.list().size() <= ModelPulls.KEEP_FINISHED + 1, "kept: " + pulls.list().size());
            assertFalse(pulls.get(ids.getFirst()).isPresent(), "the oldest finished pull is forgotten");
            assertTrue(pulls.get(ids.get(started - 1)).isPresent(), "the newest are kept");
            assertEquals("last", pulls.get(ids.getLast()).orElseThrow().name);
        }
    }

    @Test
    void aClosedPullQueueTakesNoMorePulls() throws Exception {
        try (FakeHub hub = new FakeHub()) {
            ModelPulls pulls = new ModelPulls(new HubClient(hub.url(), null), store);
            pulls.close();
            assertThrows(RejectedExecutionException.class,
                    () -> pulls.start("org/missing", "main", List.of(), List.of(), null));
        }
    }
}
