package ferret

import (
	"context"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

func TestStart(t *testing.T) {
	uri := Start(t)
	client, err := mongo.Connect(options.Client().ApplyURI(uri))
	if err != nil {
		t.Fatal(err)
	}
	defer client.Disconnect(context.Background())
	coll := client.Database("probe").Collection("c")
	if _, err := coll.InsertOne(t.Context(), bson.D{{Key: "_id", Value: 1}, {Key: "v", Value: "x"}}); err != nil {
		t.Fatal(err)
	}
	var got struct {
		V string `bson:"v"`
	}
	if err := coll.FindOne(t.Context(), bson.D{{Key: "_id", Value: 1}}).Decode(&got); err != nil || got.V != "x" {
		t.Fatalf("read back %+v, %v", got, err)
	}
	var info bson.M
	if err := client.Database("admin").RunCommand(t.Context(), bson.D{{Key: "buildInfo", Value: 1}}).Decode(&info); err != nil {
		t.Fatal(err)
	}
	if _, ok := info["ferretdbVersion"]; !ok {
		t.Errorf("buildInfo has no ferretdbVersion: %v", info)
	}
}
