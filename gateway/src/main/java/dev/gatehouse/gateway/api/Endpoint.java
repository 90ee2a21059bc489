package dev.gatehouse.gateway.api;

import com.fasterxml.jackson.databind.JsonNode;
import dev.gatehouse.gateway.api.openai.RequestBody;
import dev.gatehouse.gateway.api.openai.SseWriter;
import dev.gatehouse.gateway.auth.ApiAuth;
import dev.gatehouse.gateway.chat.ApiException;
import dev.gatehouse.gateway.pipeline.Call;
import dev.gatehouse.gateway.pipeline.ChatPipeline;
import io.helidon.http.HeaderNames;
import io.helidon.http.HeaderValues;
import io.helidon.webserver.CloseConnectionException;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;

import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * What every inbound API does around its handler, whatever its dialect: opens the pipeline's
 * {@link Call}, authenticates the caller before the body is read, reads the body, runs the handler,
 * and turns every way out into the dialect's error and the call's status (499 when the client left).
 * Nothing here lets a stack trace reach the client.
 */
public final class Endpoint {
    private static final Logger LOG = Logger.getLogger(Endpoint.class.getName());

    /** How a dialect names its caller, the request's user and its errors. */
    public interface Dialect {
        ApiAuth.Caller authenticate(ApiAuth auth, ServerRequest req);

        /** The body's end-user tag (OpenAI's {@code user}, Anthropic's {@code metadata.user_id}); null when none. */
        String user(JsonNode body);

        /** Sends {@code e} in the dialect's error shape, unless the response has already gone. */
        void send(ServerResponse res, ApiException e);
    }

    /** What an endpoint does with a request's JSON body once its caller is known. */
    @FunctionalInterface
    public interface Handler {
        void handle(JsonNode body, Call call) throws Exception;
    }

    private final ChatPipeline pipeline;
    private final RequestBody body;
    private final Dialect dialect;

    public Endpoint(ChatPipeline pipeline, long maxBodyBytes, Dialect dialect) {
        this.pipeline = pipeline;
        this.body = new RequestBody(maxBodyBytes);
        this.dialect = dialect;
    }

    /** Authenticates, reads the body and runs the handler; every way out becomes the dialect's error and ends the call. */
    public void serve(String route, ServerRequest req, ServerResponse res, Handler handler) {
        Call call = pipeline.begin(route, name -> req.headers().first(HeaderNames.create(name)).orElse(null),
                (name, value) -> res.header(HeaderNames.create(name), value));
        int status = 200;
        try {
            try {
                call.caller(dialect.authenticate(pipeline.auth(), req)); // before the body: strangers get nothing parsed
            } catch (ApiException e) {
                res.header(HeaderValues.CONNECTION_CLOSE); // their body stays unread: close, never parse it as a request
                throw e;
            }
            JsonNode json = body.read(req, res);
            call.asks(json.path("model").textValue(), dialect.user(json));
            handler.handle(json, call);
        } catch (ApiException e) {
            status = e.status();
            dialect.send(res, e);
            if (res.headers().contains(HeaderValues.CONNECTION_CLOSE)) {
                // Helidon ignores a handler's Connection: close and would parse the unread body as the next request
                throw new CloseConnectionException("request body left unread");
            }
        } catch (SseWriter.ClientGoneException e) {
            status = 499; // nginx's "client closed request": the generation was cancelled
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            status = 503;
        } catch (Exception e) {
            status = 500;
            LOG.log(Level.SEVERE, "internal error on " + route, e);
            dialect.send(res, new ApiException(500, "server_error", null, null, "Internal server error.", null));
        } finally {
            call.end(status);
        }
    }
}
