import Foundation
import GatewayCore
import Hummingbird
import RedisQueue

/// POST /jobs: the Redis stream's job contract over HTTP, for callers that cannot use Redis.
enum JobsAPI {
    static func submit(body: [UInt8], caller: Caller, intake: JobIntake, decoder: JobDecoder) async throws -> Response {
        let job: Job
        switch decoder.decode(body) {
        case .failure(let rejection):
            return JSONResponse.error(.badRequest, rejection.code.rawValue, rejection.message)
        case .success(let decoded):
            job = decoded
        }
        switch try await intake.enqueue(jobID: job.id, json: body) {
        case .accepted(let entry):
            return JSONResponse.ok(JSONValue.object(["job_id": .string(job.id), "status": .string("accepted"), "stream_id": .string(entry)]),
                                   status: .accepted)
        case .duplicate(let entry):
            return JSONResponse.ok(JSONValue.object([
                "job_id": .string(job.id), "status": .string("duplicate"), "stream_id": .string(entry),
                "message": .string("this job id was already accepted; it is not enqueued again"),
            ]))
        }
    }
}
