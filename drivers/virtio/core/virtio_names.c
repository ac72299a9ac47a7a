/*
 * Names for people: modes, device types, interrupt kinds, transports, locations, and feature
 * bits (2.2, 6, and each driver's own).
 */
#include "drivers/virtio/core/virtio.h"
#include "drivers/virtio/core/virtio_transport.h"
#include "drivers/virtio/ring/virtio_ring.h"

#include <stdio.h>

const char *virtio_mode_name(enum virtio_mode m)
{
	return m == VIRTIO_MODE_POLL ? "poll" : m == VIRTIO_MODE_HYBRID ? "hybrid" : "irq";
}

const char *virtio_ring_name(uint64_t features)
{
	bool in_order = (features >> VIRTIO_F_IN_ORDER) & 1;
	if ((features >> VIRTIO_F_RING_PACKED) & 1)
		return in_order ? "packed in-order" : "packed";
	return in_order ? "split in-order" : "split";
}

const char *virtio_irq_name(const struct virtio_device *vd)
{
	return vd->ops ? vd->ops->irq_name(vd) : "none";
}

void virtio_location(const struct virtio_device *vd, bool verbose, char *buf, size_t len)
{
	vd->ops->location(vd, verbose, buf, len);
}

const char *virtio_transport_name(const struct virtio_device *vd)
{
	return vd->ops ? vd->ops->name : "none";
}

const char *virtio_type_name(uint16_t type)
{
	switch (type) {
	case VIRTIO_ID_NET:
		return "virtio-net";
	case VIRTIO_ID_BLOCK:
		return "virtio-blk";
	case VIRTIO_ID_CONSOLE:
		return "virtio-console";
	case VIRTIO_ID_RNG:
		return "virtio-rng";
	default:
		return "virtio";
	}
}

static const char *generic_feature_name(unsigned bit)
{
	switch (bit) {
	case VIRTIO_F_NOTIFY_ON_EMPTY:
		return "NOTIFY_ON_EMPTY";
	case VIRTIO_F_ANY_LAYOUT:
		return "ANY_LAYOUT";
	case VIRTIO_RING_F_INDIRECT_DESC:
		return "RING_INDIRECT_DESC";
	case VIRTIO_RING_F_EVENT_IDX:
		return "RING_EVENT_IDX";
	case VIRTIO_F_BAD_FEATURE:
		return "BAD_FEATURE"; /* legacy devices offer it so drivers that accept it fail */
	case VIRTIO_F_VERSION_1:
		return "VERSION_1";
	case VIRTIO_F_ACCESS_PLATFORM:
		return "ACCESS_PLATFORM";
	case VIRTIO_F_RING_PACKED:
		return "RING_PACKED";
	case VIRTIO_F_IN_ORDER:
		return "IN_ORDER";
	case VIRTIO_F_ORDER_PLATFORM:
		return "ORDER_PLATFORM";
	case VIRTIO_F_SR_IOV:
		return "SR_IOV";
	case VIRTIO_F_NOTIFICATION_DATA:
		return "NOTIFICATION_DATA";
	case VIRTIO_F_NOTIF_CONFIG_DATA:
		return "NOTIF_CONFIG_DATA";
	case VIRTIO_F_RING_RESET:
		return "RING_RESET";
	default:
		return NULL;
	}
}

void virtio_feature_string(const struct virtio_device *vd, uint64_t features, char *buf,
			   size_t len)
{
	size_t n = 0;
	buf[0] = 0;
	for (unsigned bit = 0; bit < 64 && n < len; bit++) {
		if (!((features >> bit) & 1))
			continue;
		const char *name = NULL;
		if (bit < 24 && vd->driver && vd->driver->feature_names)
			name = vd->driver->feature_names[bit];
		else if (bit >= 24)
			name = generic_feature_name(bit);
		int w = name ? snprintf(buf + n, len - n, "%s%s", n ? " " : "", name)
			     : snprintf(buf + n, len - n, "%sbit%u", n ? " " : "", bit);
		if (w < 0)
			break;
		n += (size_t)w;
	}
	if (!n)
		snprintf(buf, len, "(none)");
}
