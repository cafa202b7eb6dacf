/*
 * iotsite_me: ThingsBoard's `v1/devices/me/...` topics on Mosquitto 2.0, one device each.
 *
 * Every ThingsBoard device publishes to and subscribes to the same `me` topics, so a
 * plain broker can neither tell the server who sent a message nor deliver a command to
 * one device only. This plugin, loaded before the dynamic security plugin (which still
 * decides who may connect, publish and subscribe), does both, using the username each
 * device connects with: its device id.
 *
 *   uplink    device N publishes  v1/devices/me/X    -> delivered as  devices/N/X
 *   downlink  server publishes    devices/N/down/X   -> also sent as  v1/devices/me/X
 *                                                       to device N's clients only
 *
 * Which clients are device N's: those that subscribed to a `v1/devices/me/` filter with
 * username N (remembered at the subscribe check, forgotten at disconnect). A client may
 * receive a `v1/devices/me/` message only while it is remembered under its own username,
 * so a client id reused by another device never receives the first device's messages.
 *
 * When a device subscribes to its commands (either namespace) the plugin publishes
 * `devices/N/rpc/subscribed`: the server then sends that device's persistent commands
 * again.
 *
 * ThingsBoard devices connect with their access token as the username and no password.
 * The server tells the plugin the SHA-256 of each device's token (`$CONTROL/iotsite/v1`,
 * lines "set <id> <sha256 hex>", "remove <id>", "reset"), kept in the file named by
 * `plugin_opt_devices_file`: a CONNECT whose username hashes to device <id>'s is that
 * device, with username <id> from then on, so dynamic security's role for <id> governs
 * it whichever way it connected, a new token replaces the old one for both ways, and
 * the broker's disk never holds a token.
 *
 * Build: make broker-plugin (needs Debian's mosquitto-dev and libssl-dev).
 * Docs: docs/device-communication.md.
 */

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mosquitto.h>
#include <mosquitto_broker.h>
#include <mosquitto_plugin.h>
#include <openssl/evp.h>

#define ME_PREFIX "v1/devices/me/"
#define ME_PREFIX_LEN (sizeof(ME_PREFIX) - 1)
#define DEVICES_PREFIX "devices/"
#define DEVICES_PREFIX_LEN (sizeof(DEVICES_PREFIX) - 1)
#define DOWN_INFIX "/down/"
#define MAX_DEVICE_ID_LEN 18 /* a bigint, and no more */
#define CONTROL_TOPIC "$CONTROL/iotsite/v1"
#define SHA256_HEX_LEN 64
#define MAX_TOKEN_LEN 256

struct token_entry {
	char device_id[MAX_DEVICE_ID_LEN + 1];
	char sha256[SHA256_HEX_LEN + 1];
};

static struct token_entry *token_entries;
static size_t token_count;
static size_t token_capacity;
static char *devices_file;

struct me_client {
	char *client_id;
	char *username;
};

static mosquitto_plugin_id_t *plugin_id;
static struct me_client *clients;
static size_t client_count;
static size_t client_capacity;

/* A device's username is its id: 1 to 18 digits. */
static bool is_device_username(const char *username)
{
	size_t len;

	if(username == NULL){
		return false;
	}
	len = strlen(username);
	if(len == 0 || len > MAX_DEVICE_ID_LEN){
		return false;
	}
	for(size_t i = 0; i < len; i++){
		if(username[i] < '0' || username[i] > '9'){
			return false;
		}
	}
	return true;
}

static bool starts_with(const char *text, const char *prefix, size_t prefix_len)
{
	return text != NULL && strncmp(text, prefix, prefix_len) == 0;
}

static struct me_client *client_find(const char *client_id)
{
	for(size_t i = 0; i < client_count; i++){
		if(strcmp(clients[i].client_id, client_id) == 0){
			return &clients[i];
		}
	}
	return NULL;
}

static void client_remember(const char *client_id, const char *username)
{
	struct me_client *known = client_find(client_id);
	char *copy;

	if(known != NULL){
		if(strcmp(known->username, username) != 0){
			copy = mosquitto_strdup(username);
			if(copy == NULL){
				return;
			}
			mosquitto_free(known->username);
			known->username = copy;
		}
		return;
	}
	if(client_count == client_capacity){
		size_t capacity = client_capacity ? client_capacity * 2 : 64;
		struct me_client *grown = mosquitto_realloc(clients, capacity * sizeof(*clients));
		if(grown == NULL){
			return;
		}
		clients = grown;
		client_capacity = capacity;
	}
	clients[client_count].client_id = mosquitto_strdup(client_id);
	clients[client_count].username = mosquitto_strdup(username);
	if(clients[client_count].client_id == NULL || clients[client_count].username == NULL){
		mosquitto_free(clients[client_count].client_id);
		mosquitto_free(clients[client_count].username);
		return;
	}
	client_count++;
}

static void client_forget(const char *client_id)
{
	struct me_client *known = client_find(client_id);

	if(known == NULL){
		return;
	}
	mosquitto_free(known->client_id);
	mosquitto_free(known->username);
	*known = clients[client_count - 1];
	client_count--;
}

/* The device id of `devices/<id>/<rest>` and where <rest> starts, or NULL. */
static const char *device_topic_rest(const char *topic, char *device_id)
{
	const char *id_start, *slash;
	size_t id_len;

	if(!starts_with(topic, DEVICES_PREFIX, DEVICES_PREFIX_LEN)){
		return NULL;
	}
	id_start = topic + DEVICES_PREFIX_LEN;
	slash = strchr(id_start, '/');
	if(slash == NULL){
		return NULL;
	}
	id_len = (size_t)(slash - id_start);
	if(id_len == 0 || id_len > MAX_DEVICE_ID_LEN){
		return NULL;
	}
	memcpy(device_id, id_start, id_len);
	device_id[id_len] = '\0';
	if(!is_device_username(device_id)){
		return NULL;
	}
	return slash + 1;
}

static void subscribed_notice(const char *device_id)
{
	char topic[DEVICES_PREFIX_LEN + MAX_DEVICE_ID_LEN + 32];

	snprintf(topic, sizeof(topic), "%s%s/rpc/subscribed", DEVICES_PREFIX, device_id);
	mosquitto_broker_publish_copy(NULL, topic, 2, "{}", 1, false, NULL);
}

/* Does this subscription filter take commands (rpc/request/...) under `prefix`? */
static bool filter_takes_commands(const char *filter, const char *rest)
{
	(void)filter;
	return strcmp(rest, "rpc/request/+") == 0 || strcmp(rest, "rpc/request/#") == 0
		|| strcmp(rest, "rpc/#") == 0 || strcmp(rest, "#") == 0;
}

static int on_acl_check(int event, void *event_data, void *userdata)
{
	struct mosquitto_evt_acl_check *ed = event_data;
	const char *username = mosquitto_client_username(ed->client);
	const char *client_id = mosquitto_client_id(ed->client);
	char device_id[MAX_DEVICE_ID_LEN + 1];
	const char *rest;
	struct me_client *known;

	(void)event;
	(void)userdata;
	if(client_id == NULL){
		return MOSQ_ERR_PLUGIN_DEFER;
	}
	if(ed->access == MOSQ_ACL_SUBSCRIBE && is_device_username(username)){
		if(starts_with(ed->topic, ME_PREFIX, ME_PREFIX_LEN)){
			client_remember(client_id, username);
			if(filter_takes_commands(ed->topic, ed->topic + ME_PREFIX_LEN)){
				subscribed_notice(username);
			}
		}else if((rest = device_topic_rest(ed->topic, device_id)) != NULL
				&& strcmp(device_id, username) == 0
				&& starts_with(rest, "down/", 5)
				&& filter_takes_commands(ed->topic, rest + 5)){
			subscribed_notice(username);
		}
		return MOSQ_ERR_PLUGIN_DEFER; /* dynamic security decides */
	}
	if(ed->access == MOSQ_ACL_READ && starts_with(ed->topic, ME_PREFIX, ME_PREFIX_LEN)){
		known = client_find(client_id);
		if(username == NULL || known == NULL || strcmp(known->username, username) != 0){
			return MOSQ_ERR_ACL_DENIED;
		}
	}
	return MOSQ_ERR_PLUGIN_DEFER;
}

static int on_message(int event, void *event_data, void *userdata)
{
	struct mosquitto_evt_message *ed = event_data;
	const char *username = mosquitto_client_username(ed->client);
	char device_id[MAX_DEVICE_ID_LEN + 1];
	const char *rest;
	char *topic;
	size_t len;

	(void)event;
	(void)userdata;
	if(is_device_username(username) && starts_with(ed->topic, ME_PREFIX, ME_PREFIX_LEN)){
		/* Uplink: the device's own namespace, which names it. */
		len = DEVICES_PREFIX_LEN + strlen(username) + 1 + strlen(ed->topic + ME_PREFIX_LEN) + 1;
		topic = mosquitto_malloc(len);
		if(topic == NULL){
			return MOSQ_ERR_NOMEM;
		}
		snprintf(topic, len, "%s%s/%s", DEVICES_PREFIX, username, ed->topic + ME_PREFIX_LEN);
		mosquitto_free(ed->topic);
		ed->topic = topic;
		return MOSQ_ERR_SUCCESS;
	}
	if(!is_device_username(username) && (rest = device_topic_rest(ed->topic, device_id)) != NULL
			&& starts_with(rest, "down/", 5) && rest[5] != '\0'){
		/* Downlink from the server: a copy on `me` for each of the device's clients. */
		len = ME_PREFIX_LEN + strlen(rest + 5) + 1;
		topic = mosquitto_malloc(len);
		if(topic == NULL){
			return MOSQ_ERR_NOMEM;
		}
		snprintf(topic, len, "%s%s", ME_PREFIX, rest + 5);
		for(size_t i = 0; i < client_count; i++){
			if(strcmp(clients[i].username, device_id) == 0){
				mosquitto_broker_publish_copy(clients[i].client_id, topic, (int)ed->payloadlen, ed->payload,
						ed->qos, false, NULL);
			}
		}
		mosquitto_free(topic);
	}
	return MOSQ_ERR_SUCCESS;
}

static int on_disconnect(int event, void *event_data, void *userdata)
{
	struct mosquitto_evt_disconnect *ed = event_data;
	const char *client_id = mosquitto_client_id(ed->client);

	(void)event;
	(void)userdata;
	if(client_id != NULL){
		client_forget(client_id);
	}
	return MOSQ_ERR_SUCCESS;
}


/* --- access tokens as usernames ------------------------------------------------------ */

static bool sha256_hex(const char *text, char *hex)
{
	unsigned char digest[EVP_MAX_MD_SIZE];
	unsigned int digest_len = 0;

	if(!EVP_Digest(text, strlen(text), digest, &digest_len, EVP_sha256(), NULL) || digest_len != 32){
		return false;
	}
	for(unsigned int i = 0; i < digest_len; i++){
		snprintf(hex + 2 * i, 3, "%02x", digest[i]);
	}
	hex[SHA256_HEX_LEN] = '\0';
	return true;
}

static void token_remove(const char *device_id)
{
	for(size_t i = 0; i < token_count;){
		if(strcmp(token_entries[i].device_id, device_id) == 0){
			token_entries[i] = token_entries[--token_count];
		}else{
			i++;
		}
	}
}

static bool is_sha256_hex(const char *text)
{
	if(strlen(text) != SHA256_HEX_LEN){
		return false;
	}
	for(size_t i = 0; i < SHA256_HEX_LEN; i++){
		if(!((text[i] >= '0' && text[i] <= '9') || (text[i] >= 'a' && text[i] <= 'f'))){
			return false;
		}
	}
	return true;
}

static void token_set(const char *device_id, const char *sha256)
{
	if(!is_device_username(device_id) || !is_sha256_hex(sha256)){
		return;
	}
	token_remove(device_id);
	if(token_count == token_capacity){
		size_t capacity = token_capacity ? token_capacity * 2 : 64;
		struct token_entry *grown = mosquitto_realloc(token_entries, capacity * sizeof(*token_entries));
		if(grown == NULL){
			return;
		}
		token_entries = grown;
		token_capacity = capacity;
	}
	snprintf(token_entries[token_count].device_id, sizeof(token_entries[token_count].device_id), "%s", device_id);
	snprintf(token_entries[token_count].sha256, sizeof(token_entries[token_count].sha256), "%s", sha256);
	token_count++;
}

static const char *token_device(const char *sha256)
{
	for(size_t i = 0; i < token_count; i++){
		if(strcmp(token_entries[i].sha256, sha256) == 0){
			return token_entries[i].device_id;
		}
	}
	return NULL;
}

/* One command per line: "set <id> <sha256>", "remove <id>" or "reset". */
static void tokens_apply(const char *text, size_t len)
{
	char line[MAX_DEVICE_ID_LEN + SHA256_HEX_LEN + 32];
	char verb[16], device_id[MAX_DEVICE_ID_LEN + 2], sha256[SHA256_HEX_LEN + 2];
	size_t start = 0;

	while(start < len){
		size_t end = start;
		while(end < len && text[end] != '\n'){
			end++;
		}
		if(end - start < sizeof(line)){
			memcpy(line, text + start, end - start);
			line[end - start] = '\0';
			int fields = sscanf(line, "%15s %19s %65s", verb, device_id, sha256);
			if(fields == 1 && strcmp(verb, "reset") == 0){
				token_count = 0;
			}else if(fields == 2 && strcmp(verb, "remove") == 0){
				token_remove(device_id);
			}else if(fields == 3 && strcmp(verb, "set") == 0){
				token_set(device_id, sha256);
			}
		}
		start = end + 1;
	}
}

static void tokens_save(void)
{
	char temporary[4096];
	FILE *file;

	if(devices_file == NULL){
		return;
	}
	snprintf(temporary, sizeof(temporary), "%s.new", devices_file);
	file = fopen(temporary, "w");
	if(file == NULL){
		mosquitto_log_printf(MOSQ_LOG_ERR, "iotsite_me: cannot write %s", temporary);
		return;
	}
	for(size_t i = 0; i < token_count; i++){
		fprintf(file, "set %s %s\n", token_entries[i].device_id, token_entries[i].sha256);
	}
	if(fclose(file) != 0 || rename(temporary, devices_file) != 0){
		mosquitto_log_printf(MOSQ_LOG_ERR, "iotsite_me: cannot replace %s", devices_file);
	}
}

static void tokens_load(void)
{
	char buffer[256];
	FILE *file;

	if(devices_file == NULL || (file = fopen(devices_file, "r")) == NULL){
		return;
	}
	while(fgets(buffer, sizeof(buffer), file) != NULL){
		tokens_apply(buffer, strlen(buffer));
	}
	fclose(file);
}

static int on_control(int event, void *event_data, void *userdata)
{
	struct mosquitto_evt_control *ed = event_data;

	(void)event;
	(void)userdata;
	/* Dynamic security let only the server's account publish here; never a device. */
	if(is_device_username(mosquitto_client_username(ed->client))){
		return MOSQ_ERR_ACL_DENIED;
	}
	tokens_apply(ed->payload, ed->payloadlen);
	tokens_save();
	return MOSQ_ERR_SUCCESS;
}

static int on_basic_auth(int event, void *event_data, void *userdata)
{
	struct mosquitto_evt_basic_auth *ed = event_data;
	char sha256[SHA256_HEX_LEN + 1];
	const char *device_id;

	(void)event;
	(void)userdata;
	if(ed->username == NULL || (ed->password != NULL && ed->password[0] != '\0')
			|| is_device_username(ed->username) || strlen(ed->username) > MAX_TOKEN_LEN){
		return MOSQ_ERR_PLUGIN_DEFER;
	}
	/* ThingsBoard style: the username is the token. Its SHA-256 being the one the server
	 * gave for device <id> is the proof (dynamic security, which never sees a password
	 * here, would refuse); from here on the client is <id>, and its role applies. */
	if(!sha256_hex(ed->username, sha256) || (device_id = token_device(sha256)) == NULL){
		return MOSQ_ERR_PLUGIN_DEFER; /* dynamic security refuses it */
	}
	if(mosquitto_set_username(ed->client, device_id) != MOSQ_ERR_SUCCESS){
		return MOSQ_ERR_AUTH;
	}
	return MOSQ_ERR_SUCCESS;
}

int mosquitto_plugin_version(int supported_version_count, const int *supported_versions)
{
	for(int i = 0; i < supported_version_count; i++){
		if(supported_versions[i] == 5){
			return 5;
		}
	}
	return -1;
}

int mosquitto_plugin_init(mosquitto_plugin_id_t *identifier, void **userdata, struct mosquitto_opt *options,
		int option_count)
{
	int rc;

	(void)userdata;
	plugin_id = identifier;
	for(int i = 0; i < option_count; i++){
		if(strcmp(options[i].key, "devices_file") == 0){
			devices_file = mosquitto_strdup(options[i].value);
		}
	}
	tokens_load();
	rc = mosquitto_callback_register(plugin_id, MOSQ_EVT_BASIC_AUTH, on_basic_auth, NULL, NULL);
	if(rc == MOSQ_ERR_SUCCESS){
		rc = mosquitto_callback_register(plugin_id, MOSQ_EVT_CONTROL, on_control, CONTROL_TOPIC, NULL);
	}
	if(rc == MOSQ_ERR_SUCCESS){
		rc = mosquitto_callback_register(plugin_id, MOSQ_EVT_ACL_CHECK, on_acl_check, NULL, NULL);
	}
	if(rc == MOSQ_ERR_SUCCESS){
		rc = mosquitto_callback_register(plugin_id, MOSQ_EVT_MESSAGE, on_message, NULL, NULL);
	}
	if(rc == MOSQ_ERR_SUCCESS){
		rc = mosquitto_callback_register(plugin_id, MOSQ_EVT_DISCONNECT, on_disconnect, NULL, NULL);
	}
	if(rc != MOSQ_ERR_SUCCESS){
		mosquitto_log_printf(MOSQ_LOG_ERR, "iotsite_me: cannot register callbacks (%d)", rc);
		return rc;
	}
	mosquitto_log_printf(MOSQ_LOG_NOTICE, "iotsite_me: v1/devices/me/ mapped to devices/<username>/");
	return MOSQ_ERR_SUCCESS;
}

int mosquitto_plugin_cleanup(void *userdata, struct mosquitto_opt *options, int option_count)
{
	(void)userdata;
	(void)options;
	(void)option_count;
	mosquitto_callback_unregister(plugin_id, MOSQ_EVT_BASIC_AUTH, on_basic_auth, NULL);
	mosquitto_callback_unregister(plugin_id, MOSQ_EVT_CONTROL, on_control, CONTROL_TOPIC);
	mosquitto_callback_unregister(plugin_id, MOSQ_EVT_ACL_CHECK, on_acl_check, NULL);
	mosquitto_callback_unregister(plugin_id, MOSQ_EVT_MESSAGE, on_message, NULL);
	mosquitto_callback_unregister(plugin_id, MOSQ_EVT_DISCONNECT, on_disconnect, NULL);
	for(size_t i = 0; i < client_count; i++){
		mosquitto_free(clients[i].client_id);
		mosquitto_free(clients[i].username);
	}
	mosquitto_free(clients);
	clients = NULL;
	client_count = client_capacity = 0;
	mosquitto_free(token_entries);
	token_entries = NULL;
	token_count = token_capacity = 0;
	mosquitto_free(devices_file);
	devices_file = NULL;
	return MOSQ_ERR_SUCCESS;
}
