import StudioModel
import StudioQueues

/// Whether a received message gets a slot on this worker now.
enum MessageAdmission: Sendable {
    /// Run it, holding `reservation` until it is settled.
    case run(Reservation)
    /// Handed back to the queue at once: it does not fit (now, or ever) on this worker.
    case handedBack(FitVerdict)
}

extension MessageProcessor {
    /// Matches the message's `resources_needed` against the free slots. A message that does not
    /// fit goes back to the queue at once, logged with what was short (see `handBack`). A message
    /// that cannot be read gets an empty slot, and `process` settles it.
    func admit(_ message: QueueMessage, pool: SlotPool) async -> MessageAdmission {
        var request = ResourceRequest()
        if let parsed = try? StudioMessage(parsing: message.body) {
            let needed = parsed.experiment.resourcesNeeded.json.isEmpty
                ? (try? parsed.config)?.resourcesNeeded : parsed.experiment.resourcesNeeded
            do { request = try needed.map(ResourceRequest.init) ?? request } catch {
                log.warning("unreadable resources_needed, so nothing is reserved for it: \(error)", ["message": message.id])
            }
        }
        // GPU memory in use changes under us (other processes, our own experiments): read it now.
        let currentGPUs = request.gpus > 0 && !pool.machine.gpus.isEmpty
            ? await GPUInventory.query(environment: options.environment, log: log) : nil
        switch pool.admit(request, currentGPUs: currentGPUs?.isEmpty == true ? nil : currentGPUs) {
        case .admitted(let reservation):
            return .run(reservation)
        case .refused(let verdict):
            await handBack(message, verdict: verdict, request: request)
            return .handedBack(verdict)
        }
    }

    private func handBack(_ message: QueueMessage, verdict: FitVerdict, request: ResourceRequest) async {
        switch verdict {
        case .never(let short):
            log.warning("handing the message back: this worker can never run it (\(short))", ["message": message.id])
        case .busy(let why):
            log.info("handing the message back: no slot for it now (\(why)); needs \(request.summary)", ["message": message.id])
        case .fits:
            break
        }
        deliveries.forget(message.id)
        // Requeued, not released: a fresh copy is sent and the received one acknowledged, so the
        // queue's delivery count starts over. `--max-deliveries` settles a message whose workers
        // died with it; a message passed on for fit never ran, and must not be settled however
        // often it was passed on. Sent before the acknowledgement: a failure between the two leaves
        // a duplicate (whose record is final by the time it runs, or it runs again), never a loss.
        do {
            try await queue.send(message.body)
        } catch {
            log.warning("could not requeue the message, so it is released (this delivery counts): \(error)", ["message": message.id])
            do { try await queue.release(message) } catch {
                log.warning("could not release the message (it returns when its lease runs out): \(error)", ["message": message.id])
            }
            return
        }
        do { try await queue.acknowledge(message) } catch {
            log.warning("could not acknowledge the requeued message (a duplicate returns when its lease runs out): \(error)", ["message": message.id])
        }
    }
}
