package dev.gearbox.server;

import dev.gearbox.ladder.Ladder;
import dev.gearbox.sample.SamplingParams;
import dev.gearbox.schedule.CapacityException;
import dev.gearbox.schedule.QueueFullException;
import dev.gearbox.schedule.Request;
import dev.gearbox.schedule.RequestCancelledException;
import dev.gearbox.schedule.RequestHandle;
import dev.gearbox.schedule.Result;
import dev.gearbox.schedule.Scheduler;

import java.util.List;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CountDownLatch;

/**
 * The server's engine on Gearbox's scheduler: continuous batching per tier, KV accounting,
 * bounded queues (429), escalation and the ensemble, cancellation when the client goes away.
 */
public final class SchedulerEngine implements CompletionEngine {
    private final Scheduler scheduler;
    private final List<String> tiers;

    public SchedulerEngine(Scheduler scheduler) {
        this.scheduler = scheduler;
        this.tiers = scheduler.models().stream().filter(m -> !Request.AUTO.equals(m)).toList();
    }

    @Override
    public List<String> tierNames() { return tiers; }

    @Override
    public int queueDepth() {
        return scheduler.stats().stream().mapToInt(Scheduler.TierStats::queued).sum();
    }

    @Override
    public double kvCacheUsage() {
        long used = 0, budget = 0;
        for (var s : scheduler.stats()) {
            used += s.kvBytesUsed();
            budget += s.kvBytesBudget();
        }
        return budget == 0 ? 0 : (double) used / budget;
    }

    @Override
    public Ticket submit(CompletionJob job, CompletionListener listener) {
        if (!job.auto() && !tiers.contains(job.model())) throw ApiError.unknownModel(job.model());
        SamplingParams.Builder b = job.sampling() != null ? job.sampling().toBuilder() : SamplingParams.greedy().toBuilder();
        SamplingParams params = b.maxTokens(job.maxTokens()).stop(job.stop()).build();
        // Text may come from a lane thread before submit returns; it waits until the routing is reported.
        CountDownLatch routed = new CountDownLatch(1);
        Request request = Request.of(job.model(), job.prompt(), params).withListener(piece -> {
            try {
                routed.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while streaming", e);
            }
            listener.text(piece);
        });
        RequestHandle handle;
        try {
            handle = scheduler.submit(request);
        } catch (QueueFullException e) {
            throw ApiError.queueFull(e.retryAfterSeconds());
        } catch (CapacityException e) {
            throw ApiError.tooLong(e.getMessage());
        } catch (IllegalStateException e) {
            throw ApiError.unavailable("the server is shutting down");
        } catch (IllegalArgumentException e) {
            throw ApiError.invalid(null, e.getMessage());
        }
        listener.routed(new Routing(handle.tier(), null));
        routed.countDown();
        handle.future().whenComplete((Result r, Throwable error) -> {
            if (error == null) {
                listener.done(new Outcome(r.finishReason(), r.usage().promptTokens(), r.usage().completionTokens(), r.tier(),
                        r.decision(), r.hops()));
                return;
            }
            Throwable e = error instanceof CompletionException && error.getCause() != null ? error.getCause() : error;
            if (e instanceof RequestCancelledException c) {
                switch (c.reason()) {
                    case DEADLINE -> listener.failed(new ApiError(504, "server_error", null, "timeout", c.getMessage()));
                    case SHUTDOWN -> listener.failed(ApiError.unavailable("the server shut down before the request finished"));
                    default -> listener.failed(new ApiError(499, "invalid_request_error", null, "cancelled", "the request was cancelled"));
                }
            } else {
                listener.failed(e);
            }
        });
        return handle::cancel;
    }

    @Override
    public void close() {
        scheduler.close();
    }
}
