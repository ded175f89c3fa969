// Package gridfs is the cluster deployment's blob store: content-addressed
// objects in a MongoDB GridFS bucket, in the metadata's database or in
// another database or cluster (attachments on cheaper disks than the
// metadata).
//
// # Layout
//
// The bucket is standard GridFS: <bucket>.files holds one document per
// object, <bucket>.chunks its bytes in ChunkSize pieces, and GridFS tools
// (mongofiles, any driver's bucket API) can list and read the objects.
//
//	<bucket>.files   {_id: UUID, filename: "<64 hex BlobID>", length, chunkSize, uploadDate}
//	<bucket>.chunks  {_id: ObjectId, files_id: UUID, n, data}
//
// The name of an object is its filename, the hex BlobID, made unique by a
// unique index on filename. The _id (files_id in chunks) is a random UUID
// chosen when the upload starts, since the BlobID is known only when the
// last byte has been hashed.
//
// # Commit and deduplication
//
// An upload first inserts its files document under a temporary filename,
// "tmp/<hex UUID>", then streams its chunks, then renames the file to the
// BlobID with one single-document update. Two nodes committing the same
// content race on the unique index: one rename wins, the loser deletes its
// chunks and reports existed. An object is never visible before all its
// chunks are written, and a crash at any point leaves only a "tmp/" file
// that CleanTemp removes with its chunks. Delete renames the object back to
// a temporary name before removing its chunks, so a delete that is
// interrupted is finished by CleanTemp too. A commit that finds the name
// taken refreshes the object's uploadDate, which Stat reports as Modified:
// like the file backend's mtime, it counts from the last commit for the GC
// grace period.
//
// Reference counts live in the metadata store, not here.
//
// # Sharding
//
// MongoDB's guidance for GridFS applies unchanged:
//
//   - <bucket>.chunks is sharded by {files_id: 1, n: 1}, the index GridFS
//     creates anyway. files_id is a random UUID, not an ObjectId, so ranges
//     of it spread evenly over the shards like a hashed key would (there is
//     no insert hot spot at the top of the key range), while the chunks of
//     one object stay in key order: a range read of a large attachment is a
//     single-shard, index-ordered query on {files_id, n}.
//   - <bucket>.files is small (one ~150-byte document per object) and stays
//     unsharded on the primary shard, where the unique index on filename is
//     what makes a concurrent commit of the same content safe. Should it
//     ever need sharding, shard it by {filename: 1}: BlobIDs are uniform
//     hashes (so ranges spread like a hashed key) and a unique index must
//     be prefixed by the shard key. The rename is then a shard-key update,
//     which MongoDB allows as a retryable write.
//
// Blob ids are BLAKE3 hashes and upload ids random UUIDs, both uniformly
// distributed: range sharding on either spreads data as evenly as a hashed
// shard key would, without giving up ordered chunk reads.
//
// # Chunk size
//
// The default chunk is 255 KiB, GridFS's own default: engine/frames cuts
// attachments into frames of 256 KiB of decoded input, which compress to at
// most about 256 KiB, so a frame spans one or two chunks and a range read
// that needs one frame fetches one or two chunk documents. A chunk of
// 255 KiB plus its document overhead stays under 256 KiB.
//
// # Reads
//
// BlobReader.ReadAt fetches only the chunks that cover the range, with one
// query on {files_id, n: {$gte, $lte}}, and keeps the last chunk it read, so
// the sequential small reads of a frame decoder do not fetch it again.
package gridfs
