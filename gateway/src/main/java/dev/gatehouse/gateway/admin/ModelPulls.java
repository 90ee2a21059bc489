package dev.gatehouse.gateway.admin;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.gatehouse.gateway.chat.ApiException;
import dev.gatehouse.gateway.hub.HubClient;
import dev.gatehouse.gateway.hub.ModelPull;
import dev.gatehouse.gateway.hub.ServableCheck;

import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.logging.Logger;

/**
 * The pulls started through {@code POST /admin/models/pull}: they run one after another on one background
 * thread (a pull already downloads several files at once), and each keeps its state for GET.
 */
final class ModelPulls implements AutoCloseable {
    /** Finished pulls kept for GET; older ones are forgotten. */
    static final int KEEP_FINISHED = 100;

    private static final Logger LOG = Logger.getLogger(ModelPulls.class.getName());

    enum State { QUEUED, RUNNING, DONE, FAILED }

    /** One pull; its fields change as it runs, so readers see them through volatile fields. */
    static final class Pull {
        final String id;
        final ModelPull.Request request;
        final String name;
        final Instant created = Instant.now();
        final PullProgress progress = new PullProgress();
        volatile State state = State.QUEUED;
        volatile String error;
        volatile String warning;
        volatile Instant finished;

        Pull(String id, ModelPull.Request request, String name) {
            this.id = id;
            this.request = request;
            this.name = name;
        }

        boolean active() {
            return state == State.QUEUED || state == State.RUNNING;
        }

        ObjectNode toJson() {
            ObjectNode n = AdminHandlers.JSON.createObjectNode();
            n.put("id", id);
            n.put("repo", request.repo());
            n.put("revision", request.revision());
            n.put("name", name);
            n.put("state", state.name().toLowerCase());
            n.put("bytes-done", progress.bytesDone());
            n.put("bytes-total", progress.bytesTotal());
            n.put("files-done", progress.filesDone());
            n.put("files-total", progress.filesTotal());
            n.put("error", error);
            n.put("warning", warning);
            n.put("created-at", created.toString());
            n.put("finished-at", finished == null ? null : finished.toString());
            return n;
        }
    }

    private final HubClient hub;
    private final Path store;
    private final Map<String, Pull> pulls = new LinkedHashMap<>(); // guarded by this
    private final ExecutorService executor = Executors.newSingleThreadExecutor(
            r -> Thread.ofPlatform().daemon().name("model-pull").unstarted(r)); // an unfinished pull resumes next time

    ModelPulls(HubClient hub, Path store) {
        this.hub = hub;
        this.store = store;
    }

    /** Queues the pull; 409 while another pull into the same folder is queued or running. */
    synchronized Pull start(String repo, String revision, List<String> include, List<String> exclude, String name) {
        String folder = ModelPull.folderName(repo, name);
        if (pulls.values().stream().anyMatch(p -> p.active() && p.name.equals(folder))) {
            throw new ApiException(409, "invalid_request_error", "pull_in_progress", "name",
                    "A pull into '" + folder + "' is already running.", null);
        }
        Pull pull = new Pull("pull-" + UUID.randomUUID().toString().substring(0, 8),
                new ModelPull.Request(repo, revision, include, exclude, store, name), folder);
        pulls.put(pull.id, pull);
        evictFinished();
        executor.submit(() -> run(pull));
        return pull;
    }

    private void run(Pull pull) {
        pull.state = State.RUNNING;
        try {
            Path folder = new ModelPull(hub, pull.progress).pull(pull.request);
            pull.warning = ServableCheck.warning(folder);
            pull.finished = Instant.now();
            pull.state = State.DONE; // last: whoever sees done sees the rest
        } catch (Exception e) { // HubException says what to do; anything else is still reported, not lost
            pull.error = e.getMessage() != null ? e.getMessage() : e.toString();
            pull.finished = Instant.now();
            pull.state = State.FAILED;
            LOG.warning("pull " + pull.id + " of " + pull.request.repo() + " failed: " + pull.error);
        }
    }

    /** Forgets the oldest finished pulls beyond the newest {@link #KEEP_FINISHED}. */
    private void evictFinished() {
        long finished = pulls.values().stream().filter(p -> !p.active()).count();
        Iterator<Pull> it = pulls.values().iterator(); // oldest first: insertion order
        while (finished > KEEP_FINISHED && it.hasNext()) {
            if (!it.next().active()) {
                it.remove();
                finished--;
            }
        }
    }

    /** Stops the running pull (interrupted; its partial folder resumes next time) and drops queued ones. */
    @Override
    public void close() {
        executor.shutdownNow();
    }

    synchronized Optional<Pull> get(String id) {
        return Optional.ofNullable(pulls.get(id));
    }

    synchronized List<Pull> list() {
        return new ArrayList<>(pulls.values());
    }

    /** Whether a pull into {@code name} is queued or running (its folder must not be deleted meanwhile). */
    synchronized boolean active(String name) {
        return pulls.values().stream().anyMatch(p -> p.active() && p.name.equals(name));
    }
}
