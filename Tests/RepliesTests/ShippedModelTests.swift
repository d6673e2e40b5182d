import Foundation
import Testing
import TestSupport
@testable import Replies

/// The slow half of ReplyModelTests (the rest is in RepliesUnitTests): the whole train split
/// trained again, a minute or so of CPU.
@Suite struct ReplyModelTests {
    /// The shipped weights are what scripts/train-replies makes from the labeled set's train split:
    /// nobody edited them by hand, and nobody forgot to train again after adding replies.
    @Test func theShippedModelIsTrainedOnTheLabeledSetsTrainSplit() async throws {
        let path = Shipped.directory + "/model.tsv"
        let shipped = try #require(FileManager.default.contents(atPath: path), "no \(path): run scripts/train-replies")
        let examples = try #require(try LabeledSetEvaluationTests.examples()).filter { $0.split == "train" }
        let about = try #require(ReplyModel.parse(shipped).model?.about)
        let trained = try await offThePool {
            try ReplyModelTrainer.train(examples.map { .init(text: $0.text, language: $0.language, label: $0.label, intents: $0.intents) },
                                        lexicons: Shipped.lexicons.withoutModel, about: about)
        }
        // A Bool, not the two files: Swift Testing would diff 2 MB byte by byte to show a mismatch.
        let same = trained.serialized() == shipped
        #expect(same, "config/replies/model.tsv differs from a fresh training: run scripts/train-replies")
    }
}
